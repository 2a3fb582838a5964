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
    [Theory]
    [InlineData("vault")]
    [InlineData("aws")]
    public async Task AValueFromTheProvider_ReachesTheContainer_ANewVersionRotatesIt_AndAnOutageOpensTheCircuit(string type)
    {
        await engine.RequireAsync();
        await using var fake = type == "vault" ? (FakeServer)new FakeVault() : new FakeSecretsManager();
        await fake.StartAsync();
        void Put(string value)
        {
            if (fake is FakeVault vault)
            {
                vault.Put("app/token", value);
            }
            else
            {
                ((FakeSecretsManager)fake).Put("app/token", value);
            }
        }

        Put("cloud-token-v1");
        var (section, environment) = type == "vault"
            ? ($"  cloud:\n    type: vault\n    endpoint: {fake.Address}\n    auth:\n      method: token\n      params:\n        token: ${{VAULT_TOKEN}}\n", new Dictionary<string, string> { ["VAULT_TOKEN"] = FakeVault.RootToken })
            : ($"  cloud:\n    type: aws\n    region: us-east-1\n    endpoint: {fake.Address}\n    auth:\n      method: env\n", new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = FakeSecretsManager.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = FakeSecretsManager.SecretKey });
        await using var stack = await RotationStack.UpAsync(
            $$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: live
                environment:
                  TOKEN_FILE: dsofile://cloud:app/token
            """,
            [],
            extraYaml: section + "    retry:\n      attempts: 1\n    circuit:\n      failures: 2\n      open_for: 1h\n",
            agentEnvironment: environment.ToDictionary(e => e.Key, e => (string?)e.Value),
            secretsFirst: stack =>
            {
                foreach (var (key, value) in environment)
                {
                    stack.Project.Environment[key] = value;
                }

                return Task.CompletedTask;
            });
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
        fake.Inject(new Fault(FaultKind.Status, 503));
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
    }
}
