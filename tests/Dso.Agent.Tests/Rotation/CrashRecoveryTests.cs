using Dso.Agent.Rotation;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// G7, one test per journaled phase of a swap, for both modes (generated from
/// <see cref="SwapPhases.Order"/>, so a new phase gets its test): the agent SIGKILLs itself right
/// after journaling the phase; started again, it must leave exactly one container of the service,
/// under its original name, serving the newest secret through the proxy, with no `-dso-` leftovers.
/// </summary>
public sealed class CrashRecoveryTests(EngineFixture engine)
{
    public static TheoryData<string, string> Phases() =>
        [.. new[] { SwapPhases.Rolling, SwapPhases.Restart }.SelectMany(mode => SwapPhases.Order(mode).Select(p => (mode, p.ToString())))];

    [Theory]
    [MemberData(nameof(Phases))]
    public async Task AgentKilledRightAfterJournalingAPhase_RecoversToOneContainerServingTheNewestSecret(string mode, string phase)
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync($$"""
            services:
              web:
                image: {{TestImages.App}}
                command: ["serve", "8080", "DB_PASSWORD"]
                labels:
                  dso.strategy: {{mode}}
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
            """,
            new() { ["app/db"] = "before-crash" },
            agentEnvironment: new() { [RotationJournal.KillAfterPhaseVariable] = phase });
        var name = await RotationStack.InspectAsync(await stack.Project.ContainerAsync("web"), "{{.Name}}");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=before-crash");

        stack.Set("app/db", "after-crash");
        Assert.Equal(128 + 9, await stack.Agent.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        stack.Agent.Environment.Remove(RotationJournal.KillAfterPhaseVariable);
        await stack.Agent.StartAsync();

        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=after-crash\n", 60);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await stack.TemporariesAsync()).Length == 0 && (await stack.Project.AllContainersAsync()).Length == 1, 60);
        var container = Assert.Single(await stack.Project.AllContainersAsync());
        Assert.Equal(name, await RotationStack.InspectAsync(container, "{{.Name}}"));
        Assert.Equal("true", await RotationStack.InspectAsync(container, "{{.State.Running}}"));
        Assert.Empty(await stack.TemporariesAsync());
        Assert.Contains("DB_PASSWORD=after-crash\n", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);
        var generations = Directory.GetDirectories(Path.Combine(stack.Agent.SecretsDirectory, stack.Project.Name, "web"), "g*");
        Assert.Single(generations);
        var recovered = await stack.MetricAsync("dso_rotation_recoveries_total{action=\"finished\"}") + await stack.MetricAsync("dso_rotation_recoveries_total{action=\"rolled_back\"}");
        Assert.Equal(phase == nameof(SwapPhase.Done) ? 0 : 1, recovered);
        Assert.Contains(stack.Project.Name, (await stack.Project.DsoOkAsync("status")).StandardOutput, StringComparison.Ordinal);
        Figures.Record("G7", "journaled phases after which a SIGKILLed agent, started again, left one container under its name serving the newest secret, no leftovers", $"{mode}/{phase}");
    }
}
