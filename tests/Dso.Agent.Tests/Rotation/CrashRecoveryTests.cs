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

    /// <summary>
    /// Two rolling swaps of one service, the second switched while the first still drained, and the
    /// agent SIGKILLed while the first stops its old container (a process that ignores SIGTERM) and
    /// the second still waits out its grace: the journal then ends with the first swap's step.
    /// Started again, the agent removes both old containers, routes no client to an older value,
    /// and keeps the second swap's fingerprint as the service's baseline (the first swap's is older).
    /// </summary>
    [Fact]
    public async Task AgentKilledWhileTwoSwapsOfAServiceDrain_RecoversToTheNewest_AndKeepsItsBaseline()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync($$"""
            services:
              web:
                image: {{TestImages.App}}
                command: ["--ignore-term", "serve", "8080", "DB_PASSWORD"]
                labels:
                  dso.strategy: rolling
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
            """,
            new() { ["app/db"] = "drain-one" },
            agentKeys: RotationStack.TestTimings.Replace("grace_period: 1s", "grace_period: 6s", StringComparison.Ordinal));
        var name = await RotationStack.InspectAsync(await stack.Project.ContainerAsync("web"), "{{.Name}}");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=drain-one\n");
        stack.Set("app/db", "drain-two");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=drain-two\n");
        var first = System.Diagnostics.Stopwatch.StartNew();
        stack.Set("app/db", "drain-three");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=drain-three\n");
        Assert.True(first.Elapsed < TimeSpan.FromSeconds(5), $"the second swap took {first.Elapsed}: the first one's drain was over before it switched");
        var baseline = await FingerprintAsync(stack);

        // The first swap's grace ends: it journals StopOld and waits 10 s for its old container to die.
        var journal = Path.Combine(stack.Agent.StateDirectory, "journal.log");
        await AgentLifecycleTests.WaitUntilAsync(() => Task.FromResult(File.ReadAllText(journal).Contains("\"phase\":\"StopOld\"", StringComparison.Ordinal)), 20);
        Assert.Equal(128 + 9, await stack.Agent.KillAsync());
        var stops = File.ReadAllLines(journal).Count(l => l.Contains("\"phase\":\"StopOld\"", StringComparison.Ordinal));
        Assert.True(stops == 1, $"{stops} swaps had reached StopOld when the agent was killed");
        await stack.Agent.StartAsync();

        var older = 0;
        for (var i = 0; i < 100; i++)
        {
            older += (await RotationStack.QueryAsync(stack.Port)).Contains("DB_PASSWORD=drain-three\n", StringComparison.Ordinal) ? 0 : 1;
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, older);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await stack.TemporariesAsync()).Length == 0 && (await stack.Project.AllContainersAsync()).Length == 1, 60);
        var container = Assert.Single(await stack.Project.AllContainersAsync());
        Assert.Equal(name, await RotationStack.InspectAsync(container, "{{.Name}}"));
        Assert.Single(Directory.GetDirectories(Path.Combine(stack.Agent.SecretsDirectory, stack.Project.Name, "web"), "g*"));
        Assert.Equal(2, await stack.MetricAsync("dso_rotation_recoveries_total{action=\"finished\"}"));
        Assert.Equal(baseline, await FingerprintAsync(stack));
    }

    private static async Task<string?> FingerprintAsync(RotationStack stack)
    {
        var status = (await stack.Project.DsoOkAsync("status", "--json")).StandardOutput;
        return System.Text.Json.JsonSerializer.Deserialize(status, Dso.Ipc.IpcJson.Wire.StatusReport)!.Projects.Single().Services.Single().Fingerprint;
    }
}
