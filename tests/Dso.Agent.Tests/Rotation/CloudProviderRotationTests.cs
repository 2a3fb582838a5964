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
        await using var stack = await UpAsync(fake,
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

        await using var stack = await UpAsync(fake,
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

    /// <summary>`up` of <paramref name="compose"/> with the fake's credentials in the agent's and the CLI's environment.</summary>
    private static Task<RotationStack> UpAsync(CloudFake fake, string compose, string extraYaml) =>
        RotationStack.UpAsync(
            compose,
            [],
            extraYaml: extraYaml,
            agentEnvironment: fake.Environment.ToDictionary(e => e.Key, e => (string?)e.Value),
            secretsFirst: stack =>
            {
                foreach (var (key, value) in fake.Environment)
                {
                    stack.Project.Environment[key] = value;
                }

                return Task.CompletedTask;
            });
}
