using System.Diagnostics;
using System.Text.Json;
using Dso.Fakes;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// A HashiCorp Vault provider (the built-in plugin, against the fake Vault) behind a real agent and
/// `docker dso up`: its value reaches the container, a new version in Vault rotates it through the
/// cheap metadata check, and an outage opens the circuit while the container keeps its value.
/// </summary>
public sealed class VaultProviderRotationTests(EngineFixture engine)
{
    [Fact]
    public async Task AValueFromVault_ReachesTheContainer_ANewVersionRotatesIt_AndAnOutageOpensTheCircuit()
    {
        await engine.RequireAsync();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.Put("app/token", "vault-token-v1");
        await using var stack = await RotationStack.UpAsync(
            $$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: live
                environment:
                  TOKEN_FILE: dsofile://vault:app/token
            """,
            [],
            extraYaml: $"  vault:\n    type: vault\n    endpoint: {vault.Address}\n    auth:\n      method: token\n      params:\n        token: ${{VAULT_TOKEN}}\n    retry:\n      attempts: 1\n    circuit:\n      failures: 2\n      open_for: 1h\n",
            agentEnvironment: new() { ["VAULT_TOKEN"] = FakeVault.RootToken },
            secretsFirst: stack =>
            {
                stack.Project.Environment["VAULT_TOKEN"] = FakeVault.RootToken;
                return Task.CompletedTask;
            });
        var container = await stack.Project.ContainerAsync("api");
        Assert.Equal("vault-token-v1", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token"));

        vault.Put("app/token", "vault-token-v2");
        var clock = Stopwatch.StartNew();
        var seen = string.Empty;
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && seen != "vault-token-v2")
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            seen = await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token");
        }

        Assert.Equal("vault-token-v2", seen);
        Assert.Equal(1, await stack.MetricAsync("dso_rotations_total{strategy=\"live\",result=\"rotated\"}"));
        Assert.True(await stack.MetricAsync("dso_secret_checks_total{provider=\"vault\",result=\"unchanged\"}") + await stack.MetricAsync("dso_secret_checks_total{provider=\"vault\",result=\"changed\"}") >= 1);

        // Vault goes down: checks fail, the circuit opens, the container keeps the value it has.
        vault.Inject(new Fault(FaultKind.Status, 503));
        ProviderStatus? provider = null;
        for (var i = 0; i < 100 && provider?.Circuit != "open"; i++)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            var status = (await stack.Project.DsoOkAsync("status", "--json")).StandardOutput;
            provider = JsonSerializer.Deserialize(status, IpcJson.Wire.StatusReport)!.Providers.Single(p => p.Name == "vault");
        }

        Assert.Equal("open", provider?.Circuit);
        Assert.Equal("error", provider!.State);
        Assert.Equal(1, await stack.MetricAsync("dso_provider_circuit_state{provider=\"vault\",state=\"open\"}"));
        Assert.Equal("vault-token-v2", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token"));
        Assert.Contains("open", (await stack.Project.DsoOkAsync("status")).StandardOutput.Split('\n').Single(l => l.StartsWith("vault", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.False(stack.Agent.HasExited);
    }
}
