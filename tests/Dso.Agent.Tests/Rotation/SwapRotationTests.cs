using System.Net.Sockets;
using System.Text;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>Strategies that replace the container: `restart`, and `rolling` behind the proxy under load.</summary>
public sealed class SwapRotationTests(EngineFixture engine)
{
    private static string Service(string name, string strategy, string ports, string extra = "") => $$"""
          {{name}}:
            image: {{TestImages.App}}
            command: ["serve", "8080", "DB_PASSWORD", "NAME"]
            labels:
              dso.strategy: {{strategy}}
            ports: ["{{ports}}"]
            environment:
              DB_PASSWORD: dso://app/db
              NAME: {{name}}
        {{extra}}
        """;

    [Fact]
    public async Task Restart_RecreatesTheContainerUnderItsName_WithTheNewEnvironmentValue()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync("services:\n" + Service("api", "restart", "127.0.0.1:{PORT}:8080"), new() { ["app/db"] = "restart-one" });
        var before = await stack.Project.ContainerAsync("api");
        var name = await RotationStack.InspectAsync(before, "{{.Name}}");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=restart-one");

        stack.Set("app/db", "restart-two");

        await stack.WaitForRotationsAsync("restart", RotationResult.Rotated, 1);
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=restart-two");
        var after = await stack.Project.ContainerAsync("api");
        Assert.NotEqual(before, after);
        Assert.Equal(name, await RotationStack.InspectAsync(after, "{{.Name}}"));
        Assert.Empty(await stack.TemporariesAsync());
        Assert.Single(await stack.Project.AllContainersAsync());
        Assert.Contains("DB_PASSWORD=dso://app/db", await RotationStack.InspectAsync(after, "{{json .Config.Env}}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rolling_UnderConstantLoad_DropsNoConnection_Across20Rotations()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + Service("web", "rolling", "127.0.0.1:{PORT}:8080"),
            new() { ["app/db"] = "value-0" },
            agentKeys: RotationStack.TestTimings.Replace("grace_period: 1s", "grace_period: 2s", StringComparison.Ordinal));
        var container = await stack.Project.ContainerAsync("web");
        Assert.Equal("{}", await RotationStack.InspectAsync(container, "{{json .HostConfig.PortBindings}}"));
        Assert.Equal($"127.0.0.1:{stack.Port}:8080", await RotationStack.InspectAsync(container, "{{index .Config.Labels \"dso.host_ports\"}}"));
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=value-0");

        using var load = new ClientLoad(stack.Port);
        load.Start();
        for (var i = 1; i <= 20; i++)
        {
            stack.Set("app/db", $"value-{i}");
            var result = Assert.Single(await stack.RotateAsync("web"));
            Assert.True(result.Outcome is RotationResult.Rotated or RotationResult.Unchanged, $"rotation {i}: {result.Outcome}: {result.Message}");
            Assert.Contains($"DB_PASSWORD=value-{i}\n", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);
        }

        var (requests, longLived, failures) = await load.StopAsync();
        TestContext.Current.TestOutputHelper?.WriteLine($"rolling under load: 20 rotations, {requests} short connections and {longLived} long-lived ones, {failures.Count} failures");
        Assert.True(failures.Count == 0, $"{failures.Count} failed of {requests} requests: {string.Join("; ", failures.Take(5))}");
        Assert.True(requests > 1000, $"only {requests} requests were made");
        Figures.Record("G6", "failed client connections through the proxy across 20 rolling rotations (a new one every 10 ms, plus long-lived ones)", $"{failures.Count} of {requests} (and {longLived} long-lived)");
        Assert.Equal(20, await stack.MetricAsync("dso_rotations_total{strategy=\"rolling\",result=\"rotated\"}"));
        Assert.Empty(await stack.TemporariesAsync());
        Assert.Single(await stack.Project.AllContainersAsync());
        Assert.Equal(0, await stack.MetricAsync("dso_proxy_dropped_connections_total{project=\"" + stack.Project.Name + "\",service=\"web\",reason=\"no_backend\"}"));

        var status = await stack.Project.DsoOkAsync("status", "--json");
        var report = System.Text.Json.JsonSerializer.Deserialize(status.StandardOutput, IpcJson.Wire.StatusReport)!;
        var web = report.Projects.Single().Services.Single();
        Assert.Equal("rolling", web.Strategy);
        Assert.Equal(RotationResult.Rotated, web.LastRotation?.Outcome);
        Assert.True(web.LastRotation!.DurationSeconds > 0);
    }

    [Fact]
    public async Task TwoServicesOnTwoProxiedPorts_NeverGetEachOthersTraffic_EvenDuringARotation()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + Service("alpha", "rolling", "127.0.0.1:{PORT}:8080") + Service("beta", "rolling", "127.0.0.1:{PORT2}:8080"),
            new() { ["app/db"] = "shared-one" });
        await RotationStack.WaitForAnswerAsync(stack.Port, "NAME=alpha");
        await RotationStack.WaitForAnswerAsync(stack.Port2, "NAME=beta");

        var rotation = stack.RotateAsync("alpha", "--force");
        var wrong = 0;
        var count = 0;
        while (!rotation.IsCompleted || count < 200)
        {
            wrong += (await RotationStack.QueryAsync(stack.Port)).Contains("NAME=alpha\n", StringComparison.Ordinal) ? 0 : 1;
            wrong += (await RotationStack.QueryAsync(stack.Port2)).Contains("NAME=beta\n", StringComparison.Ordinal) ? 0 : 1;
            count += 2;
        }

        Assert.Equal(RotationResult.Rotated, Assert.Single(await rotation).Outcome);
        Assert.Equal(0, wrong);
    }

    [Fact]
    public async Task AnUnhealthyNewContainer_IsRolledBack_AndTheOldOneKeepsServingUntouched()
    {
        await engine.RequireAsync();
        var compose = $$"""
            services:
              web:
                image: {{TestImages.App}}
                command: ["--refuse", "bad", "serve", "8080", "DB_PASSWORD"]
                labels:
                  dso.strategy: rolling
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
            """;
        await using var stack = await RotationStack.UpAsync(compose, new() { ["app/db"] = "good-value" });
        var before = await stack.Project.ContainerAsync("web");
        var started = await RotationStack.InspectAsync(before, "{{.State.StartedAt}}");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=good-value");

        stack.Set("app/db", "bad-value");
        await stack.WaitForRotationsAsync("rolling", RotationResult.Failed, 1);
        await Task.Delay(3000, TestContext.Current.CancellationToken);

        var status = (await stack.Project.DsoOkAsync("status", "--json")).StandardOutput;
        var result = System.Text.Json.JsonSerializer.Deserialize(status, IpcJson.Wire.StatusReport)!.Projects.Single().Services.Single().LastRotation!;
        Assert.Equal(RotationResult.Failed, result.Outcome);
        Assert.Contains("exited (code 3) before it was healthy", result.Message, StringComparison.Ordinal);
        Assert.Equal(before, await stack.Project.ContainerAsync("web"));
        Assert.Equal(started, await RotationStack.InspectAsync(before, "{{.State.StartedAt}}"));
        Assert.Contains("DB_PASSWORD=good-value", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);
        Assert.Empty(await stack.TemporariesAsync());
        Assert.Single(await stack.Project.AllContainersAsync());
        Assert.Equal(1, await stack.MetricAsync("dso_rotations_total{strategy=\"rolling\",result=\"failed\"}"));
        Assert.Equal(1, await stack.MetricAsync("dso_rotation_failures_total"));
        var audit = await File.ReadAllTextAsync(stack.Agent.AuditLog, TestContext.Current.CancellationToken);
        Assert.Contains("\"result\":\"failed\"", audit, StringComparison.Ordinal);
        Assert.Contains("\"event\":\"rotation_failed\",\"status\":\"failure\",\"secret\":\"DB_PASSWORD\"", audit, StringComparison.Ordinal);
        var table = (await stack.Project.DsoOkAsync("status")).StandardOutput;
        Assert.Contains("rotation failed", table, StringComparison.Ordinal);
        Assert.DoesNotContain("bad-value", table + status + stack.Agent.Output, StringComparison.Ordinal);

        // The failing values were not retried on the checks since; a manual rotate retries them, a fixed value rotates.
        Assert.Equal(RotationResult.Failed, Assert.Single(await stack.RotateAsync("web")).Outcome);
        stack.Set("app/db", "good-again");
        await stack.WaitForRotationsAsync("rolling", RotationResult.Rotated, 1);
        Assert.Contains("DB_PASSWORD=good-again", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HundredChangesWithinOneSecond_RotateTheServiceOnce_ToTheLastValue()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + Service("web", "rolling", "127.0.0.1:{PORT}:8080"),
            new() { ["app/db"] = "burst-start" },
            agentKeys: RotationStack.TestTimings.Replace("debounce: 300ms", "debounce: 3s", StringComparison.Ordinal));
        var before = await stack.Project.ContainerAsync("web");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 1; i <= 100; i++)
        {
            stack.Set("app/db", $"burst-{i}");
            await Task.Delay(8, TestContext.Current.CancellationToken);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the burst took {clock.Elapsed}");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=burst-100\n");
        await Task.Delay(4000, TestContext.Current.CancellationToken);

        var rotations = await stack.MetricAsync("dso_rotations_total{strategy=\"rolling\",result=\"rotated\"}");
        Assert.Equal(1, rotations);
        Figures.Record("G8", "rotations for 100 changes of one secret within a second", rotations.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEqual(before, await stack.Project.ContainerAsync("web"));
        Assert.Contains("DB_PASSWORD=burst-100\n", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);
    }

    /// <summary>
    /// A client loop through the proxy: a new short connection every 10 ms, and four long-lived
    /// connections that each send a request every 50 ms for half a second (well within the drain
    /// grace) before they are replaced. Any error or wrong answer counts as a failure.
    /// </summary>
    private sealed class ClientLoad(int port) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _failures = [];
        private readonly List<Task> _tasks = [];
        private int _requests;
        private int _longLived;

        public void Start()
        {
            _tasks.Add(Task.Run(ShortLoopAsync));
            for (var i = 0; i < 4; i++)
            {
                _tasks.Add(Task.Run(LongLoopAsync));
            }
        }

        public async Task<(int Requests, int LongLived, IReadOnlyList<string> Failures)> StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_tasks);
            lock (_failures)
            {
                return (_requests, _longLived, [.. _failures]);
            }
        }

        public void Dispose() => _stop.Dispose();

        private async Task ShortLoopAsync()
        {
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (!_stop.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                try
                {
                    var answer = await RotationStack.QueryAsync(port);
                    if (!answer.Contains("DB_PASSWORD=value-", StringComparison.Ordinal))
                    {
                        Fail($"short: unexpected answer '{answer.Split('\n')[0]}'");
                    }
                }
                catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                {
                    Fail($"short: {e.GetType().Name}: {e.Message}");
                }

                Interlocked.Increment(ref _requests);
                await Task.Delay(10);
            }
        }

        private async Task LongLoopAsync()
        {
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (!_stop.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync("127.0.0.1", port);
                    var stream = client.GetStream();
                    using var reader = new StreamReader(stream, Encoding.UTF8, false, 256, leaveOpen: true);
                    await stream.WriteAsync("KEEP\n"u8.ToArray());
                    Interlocked.Increment(ref _longLived);
                    for (var i = 0; i < 10 && !_stop.IsCancellationRequested; i++)
                    {
                        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                        await stream.WriteAsync("GET\n"u8.ToArray(), timeout.Token);
                        var answer = new StringBuilder();
                        while (await reader.ReadLineAsync(timeout.Token) is { } line && line != "END")
                        {
                            answer.Append(line).Append('\n');
                        }

                        if (!answer.ToString().Contains("DB_PASSWORD=value-", StringComparison.Ordinal))
                        {
                            Fail($"long-lived: unexpected answer '{answer.ToString().Split('\n')[0]}'");
                        }

                        Interlocked.Increment(ref _requests);
                        await Task.Delay(50);
                    }
                }
                catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                {
                    Fail($"long-lived: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        private void Fail(string reason)
        {
            lock (_failures)
            {
                _failures.Add(reason);
            }
        }
    }
}
