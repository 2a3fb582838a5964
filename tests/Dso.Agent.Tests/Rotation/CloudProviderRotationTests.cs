using System.Diagnostics;
using System.Text.Json;
using Dso.Fakes;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// A cloud provider (a built-in plugin, against its fake server) behind a real agent and
/// `docker dso up`: its value reaches the container, a new version in the provider rotates it
/// through the cheap version check, and an outage opens the circuit while the container keeps its
/// value.
/// </summary>
public sealed class CloudProviderRotationTests(EngineFixture engine)
{
    public static TheoryData<string> Types => [.. CloudFake.Types];

    [Theory]
    [MemberData(nameof(Types))]
    public async Task AValueFromTheProvider_ReachesTheContainer_ANewVersionRotatesIt_AndAnOutageOpensTheCircuit(string type)
    {
        await engine.RequireAsync();
        using var dir = new TempDirectory();
        await using var fake = await CloudFake.StartAsync(type, dir.Path);
        void Put(string value) => fake.Put(fake.Secret, value);

        Put("cloud-token-v1");
        var section = fake.Section("cloud");
        var hookPort = AgentProcess.FreePort();
        using var hook = new System.Net.HttpListener();
        hook.Prefixes.Add($"http://127.0.0.1:{hookPort}/circuit/");
        hook.Start();
        var notified = Task.Run(async () =>
        {
            var context = await hook.GetContextAsync();
            using var reader = new StreamReader(context.Request.InputStream, System.Text.Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            context.Response.StatusCode = 200;
            context.Response.Close();
            return body;
        });
        await using var stack = await RotationStack.UpAsync(fake,
            $$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: live
                environment:
                  TOKEN_FILE: dsofile://cloud:{{fake.Secret}}
            """,
            section + "    retry:\n      attempts: 1\n    circuit:\n      failures: 2\n      open_for: 1h\n"
            + $"notifications:\n  webhooks:\n    - url: http://127.0.0.1:{hookPort}/circuit/\n      on: failed\n");
        var container = await stack.Project.ContainerAsync("api");
        Assert.Equal("cloud-token-v1", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token"));

        Put("cloud-token-v2");
        var clock = Stopwatch.StartNew();
        var seen = string.Empty;
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && seen != "cloud-token-v2")
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            seen = await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token");
        }

        Assert.Equal("cloud-token-v2", seen);
        Assert.Equal(1, await stack.MetricAsync("dso_rotations_total{strategy=\"live\",result=\"rotated\"}"));
        Assert.True(await stack.MetricAsync("dso_secret_checks_total{provider=\"cloud\",result=\"unchanged\"}") + await stack.MetricAsync("dso_secret_checks_total{provider=\"cloud\",result=\"changed\"}") >= 1);

        // The provider goes down: checks fail, the circuit opens, the container keeps the value it has.
        fake.Secrets.Inject(new Fault(FaultKind.Status, 503));
        ProviderStatus? provider = null;
        for (var i = 0; i < 100 && provider?.Circuit != "open"; i++)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            var status = (await stack.Project.DsoOkAsync("status", "--json")).StandardOutput;
            provider = JsonSerializer.Deserialize(status, IpcJson.Wire.StatusReport)!.Providers.Single(p => p.Name == "cloud");
        }

        Assert.Equal("open", provider?.Circuit);
        Assert.Equal("error", provider!.State);
        Assert.Equal(1, await stack.MetricAsync("dso_provider_circuit_state{provider=\"cloud\",state=\"open\"}"));
        Assert.Equal("cloud-token-v2", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token"));
        Assert.Contains("open", (await stack.Project.DsoOkAsync("status")).StandardOutput.Split('\n').Single(l => l.StartsWith("cloud", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.False(stack.Agent.HasExited);

        // The one post an `on: failed` target gets here: the circuit opened (the rotation to v2 succeeded).
        var notification = System.Text.Json.JsonDocument.Parse(await notified.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("provider_circuit", notification.GetProperty("event").GetString());
        Assert.Equal("cloud", notification.GetProperty("provider").GetString());
        Assert.Equal("closed", notification.GetProperty("from").GetString());
        Assert.Equal("open", notification.GetProperty("to").GetString());
        Assert.False(string.IsNullOrEmpty(notification.GetProperty("error").GetString()));
        Assert.DoesNotContain("cloud-token-v2", notification.GetRawText(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The outage drill: the provider answers 503 for a sustained period (20 s, bounded). The
    /// container keeps running with its value; status shows the provider in error with its circuit
    /// open; a container restarted meanwhile gets the last-known-good value; when the provider
    /// returns, the circuit closes by itself, status is ok again and a new version rotates — and the
    /// notification target heard both circuit changes.
    /// </summary>
    [Fact]
    public async Task ProviderOutage_ContainersKeepTheirValues_LastKnownGoodIsServed_AndRecoveryIsAutomatic()
    {
        await engine.RequireAsync();
        using var dir = new TempDirectory();
        await using var fake = await CloudFake.StartAsync("vault", dir.Path);
        fake.Put(fake.Secret, "outage-v1");
        var hookPort = AgentProcess.FreePort();
        using var hook = new System.Net.HttpListener();
        hook.Prefixes.Add($"http://127.0.0.1:{hookPort}/hook/");
        hook.Start();
        var posts = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _ = Task.Run(async () =>
        {
            while (hook.IsListening)
            {
                try
                {
                    var context = await hook.GetContextAsync();
                    using var reader = new StreamReader(context.Request.InputStream, System.Text.Encoding.UTF8);
                    posts.Enqueue(await reader.ReadToEndAsync());
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                }
                catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
            }
        }, TestContext.Current.CancellationToken);
        await using var stack = await RotationStack.UpAsync(
            fake,
            $$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                restart: always
                labels:
                  dso.strategy: live
                environment:
                  TOKEN_FILE: dsofile://cloud:{{fake.Secret}}
            """,
            extraYaml: fake.Section("cloud") + "    retry:\n      attempts: 1\n    circuit:\n      failures: 2\n      open_for: 2s\n"
                + $"notifications:\n  webhooks:\n    - url: http://127.0.0.1:{hookPort}/hook/\n      on: all\n",
            agentKeys: RotationStack.TestTimings + "  cache_ttl: 1s\n");
        var container = await stack.Project.ContainerAsync("api");
        Assert.Equal("outage-v1", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token"));

        async Task<ProviderStatus> ProviderAsync() =>
            JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!.Providers.Single(p => p.Name == "cloud");

        // Down for 20 s: the circuit opens, and the container keeps running with its value throughout.
        fake.Secrets.Inject(new Fault(FaultKind.Status, 503));
        var outage = Stopwatch.StartNew();
        var sawOpen = false;
        while (outage.Elapsed < TimeSpan.FromSeconds(20))
        {
            var provider = await ProviderAsync();
            sawOpen |= provider.Circuit == "open";
            Assert.Equal("running", await RotationStack.InspectAsync(container, "{{.State.Status}}"));
            await Task.Delay(1000, TestContext.Current.CancellationToken);
        }

        Assert.True(sawOpen, "the circuit never opened during the outage");
        Assert.Equal("error", (await ProviderAsync()).State);
        Assert.Equal("outage-v1", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token"));

        // A reboot of the container during the outage (its RAM files gone): the agent restores them
        // from the last value it had, since the provider cannot answer.
        var servedBefore = JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!.Cache.LastKnownGoodServed;
        Directory.Delete(Path.Combine(stack.Agent.SecretsDirectory, stack.Project.Name), recursive: true);
        await EngineFixture.DockerOkAsync("restart", "-t", "1", container);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await EngineFixture.DockerAsync("exec", container, "cat", "/run/secrets/dso/token")) is { Succeeded: true, StandardOutput: "outage-v1" }, 60);
        Assert.Equal("running", await RotationStack.InspectAsync(container, "{{.State.Status}}"));

        // Back: the circuit closes by itself and rotation works again.
        fake.Secrets.Inject(null);
        ProviderStatus? back = null;
        for (var i = 0; i < 60 && back is not { Circuit: "closed", State: "ok" }; i++)
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
            back = await ProviderAsync();
        }

        Assert.Equal("closed", back?.Circuit);
        Assert.Equal("ok", back?.State);
        fake.Put(fake.Secret, "outage-v2");
        var seen = string.Empty;
        for (var i = 0; i < 100 && seen != "outage-v2"; i++)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            seen = await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token");
        }

        Assert.Equal("outage-v2", seen);
        var report = JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!;
        TestContext.Current.TestOutputHelper?.WriteLine($"outage 20 s: last-known-good served {report.Cache.LastKnownGoodServed} times (before the restart {servedBefore}); notifications {posts.Count}");
        Assert.True(report.Cache.LastKnownGoodServed >= 1, $"no last-known-good value was served (before the restart: {servedBefore})");
        Assert.False(stack.Agent.HasExited);
        var circuitPosts = posts.Select(p => System.Text.Json.JsonDocument.Parse(p).RootElement).Where(p => p.TryGetProperty("event", out var e) && e.GetString() == "provider_circuit").Select(p => p.GetProperty("to").GetString()).ToList();
        Assert.Contains("open", circuitPosts);
        Assert.Equal("closed", circuitPosts[^1]);
        Assert.DoesNotContain(posts, p => p.Contains("outage-v", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARotation_ReadsOnlyTheValuesWhoseVersionMoved_TheRestComeFromTheCache()
    {
        await engine.RequireAsync();
        using var dir = new TempDirectory();
        await using var fake = await CloudFake.StartAsync("aws", dir.Path);
        var aws = (FakeSecretsManager)fake.Secrets;
        for (var i = 0; i < 5; i++)
        {
            aws.Put($"app/s{i}", $"first-{i}");
        }

        await using var stack = await RotationStack.UpAsync(fake,
            $$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: live
                environment:
                  S0_FILE: dsofile://cloud:app/s0
                  S1_FILE: dsofile://cloud:app/s1
                  S2_FILE: dsofile://cloud:app/s2
                  S3_FILE: dsofile://cloud:app/s3
                  S4_FILE: dsofile://cloud:app/s4
            """,
            fake.Section("cloud"));
        var container = await stack.Project.ContainerAsync("api");

        // The first rotation reads every value once (what registration read predates the versions first seen).
        aws.Put("app/s0", "second-0");
        await stack.WaitForRotationsAsync("live", "rotated", 1);
        var before = aws.ValuesRead;

        aws.Put("app/s3", "second-3");
        await stack.WaitForRotationsAsync("live", "rotated", 2);

        Assert.Equal(1, aws.ValuesRead - before);
        Assert.Equal("second-3", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/s3"));
        Assert.Equal("second-0", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/s0"));
        Assert.Equal("first-4", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/s4"));
    }
}
