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
    public async Task Restart_GivesAProcessThatIgnoresSigterm_TheRotationGracePeriod_NotTheEnginesTenSeconds()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            $$"""
            services:
              api:
                image: {{TestImages.App}}
                command: ["--ignore-term", "serve", "8080", "DB_PASSWORD"]
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
            """,
            new() { ["app/db"] = "grace-one" },
            agentKeys: RotationStack.TestTimings.Replace("debounce: 300ms", "debounce: 1h", StringComparison.Ordinal),
            extraYaml: "rotation:\n  strategy: restart        # the seed's form\n  grace_period: 2s\n");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=grace-one");

        stack.Set("app/db", "grace-two");
        var result = Assert.Single(await stack.RotateAsync("api"));

        Assert.Equal(RotationResult.Rotated, result.Outcome);
        Assert.Equal("restart", result.Strategy);
        Assert.True(result.DurationSeconds is >= 2 and < 8, $"the restart took {result.DurationSeconds} s (grace_period 2s: SIGTERM, then SIGKILL after 2 s)");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=grace-two");
        Assert.Single(await stack.Project.AllContainersAsync());
    }

    [Fact]
    public async Task UpAndDown_WhileAnOldContainerDrains_FinishTheDrainFirst_SoComposeMeetsOneContainer()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + Service("web", "rolling", "127.0.0.1:{PORT}:8080"),
            new() { ["app/db"] = "up-one" },
            agentKeys: RotationStack.TestTimings.Replace("grace_period: 1s", "grace_period: 120s", StringComparison.Ordinal));
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=up-one\n");
        stack.Set("app/db", "up-two");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=up-two\n");
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_draining_containers") == 1);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await stack.Project.DsoOkAsync("up", "-d");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"up waited {clock.Elapsed} for a drain with a 120 s grace");
        Assert.Equal(0, await stack.MetricAsync("dso_draining_containers"));
        Assert.Empty(await stack.TemporariesAsync());
        Assert.Single(await stack.Project.AllContainersAsync());
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=up-two\n");

        stack.Set("app/db", "up-three");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=up-three\n");
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_draining_containers") == 1);
        await stack.Project.DsoOkAsync("down");

        Assert.Equal(0, await stack.MetricAsync("dso_draining_containers"));
        Assert.Empty(await stack.Project.AllContainersAsync());
        Assert.False(Directory.Exists(Path.Combine(stack.Agent.SecretsDirectory, stack.Project.Name)), "down left the project's secrets");
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

        using var load = new ClientLoad(stack.Port, "DB_PASSWORD=value-");
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
    public async Task AnHttpProbe_SwapsWhenGetAnswers2xx_AndRollsBackWhenThePortSpeaksNoHttp_OrAnswersAStatusItDoesNotExpect()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            $$"""
            services:
              web:
                image: {{TestImages.App}}
                command: ["http", "8080"]
                labels:
                  dso.strategy: rolling
                  dso.health.probe: http://:8080/healthz   # the original project's form
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
              api:
                image: {{TestImages.App}}
                command: ["serve", "8080", "DB_PASSWORD"]
                labels:
                  dso.strategy: rolling
                  dso.health.probe: http:8080/
                ports: ["127.0.0.1:{PORT2}:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
              strict:
                image: {{TestImages.App}}
                command: ["http", "8080"]
                labels:
                  dso.strategy: rolling
                  dso.health.probe: http://:8080/healthz 204
                environment:
                  DB_PASSWORD: dso://app/db
            """,
            new() { ["app/db"] = "probe-one" },
            agentKeys: RotationStack.TestTimings.Replace("debounce: 300ms", "debounce: 1h", StringComparison.Ordinal).Replace("health_check_timeout: 20s", "health_check_timeout: 4s", StringComparison.Ordinal));
        var web = await stack.Project.ContainerAsync("web");
        var api = await stack.Project.ContainerAsync("api");
        await RotationStack.WaitForAnswerAsync(stack.Port2, "DB_PASSWORD=probe-one");

        stack.Set("app/db", "probe-two");
        var strict = await stack.Project.ContainerAsync("strict");
        var results = await stack.RotateAsync("web", "api", "strict");

        var swapped = Assert.Single(results, r => r.Service == "web");
        var kept = Assert.Single(results, r => r.Service == "api");
        Assert.Equal(RotationResult.Rotated, swapped.Outcome);
        Assert.NotEqual(web, await stack.Project.ContainerAsync("web"));
        Assert.Equal(RotationResult.Failed, kept.Outcome);
        Assert.Contains("was not healthy within 4s (no HTTP answer from GET / on port 8080)", kept.Message, StringComparison.Ordinal);
        Assert.Equal(api, await stack.Project.ContainerAsync("api"));
        Assert.Contains("DB_PASSWORD=probe-one", await RotationStack.QueryAsync(stack.Port2), StringComparison.Ordinal);
        // A probe that names its healthy statuses: the app's 200 is not the 204 it asks for.
        var refused = Assert.Single(results, r => r.Service == "strict");
        Assert.Equal(RotationResult.Failed, refused.Outcome);
        Assert.Contains("(HTTP 200 from GET /healthz on port 8080, expected 204)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(strict, await stack.Project.ContainerAsync("strict"));
        Assert.Empty(await stack.TemporariesAsync());
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
}
