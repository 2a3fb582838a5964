using Dso.Agent.Tests;
using Dso.Testing;

namespace Dso.Swarm.Tests;

/// <summary>
/// A stack deployed while the agent runs: the agent resolves the references with its own
/// providers, makes the versions, watches them, and on a change rolls the service through Swarm
/// (new version, spec swapped, Swarm's update awaited, old version removed); status shows it.
/// </summary>
public sealed class AgentSwarmTests
{
    internal const string Timings = "  debounce: 300ms\n  watch:\n    polling_interval: 1s\n";

    [Fact]
    public async Task AgentWatchedStack_SecretSet_SwarmRollsItWithZeroFailedRequests_StatusShowsIt_RestartRotatesNothing()
    {
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack(), "token-one", Timings);
        var (stack, agent) = (setup.Stack, setup.Agent);
        var deploy = await stack.DeployOkAsync();
        Assert.Contains("registered with the agent", deploy.StandardError, StringComparison.Ordinal);
        var before = await stack.SecretNamesAsync();

        var service = AgentStack.Service(await setup.StatusAsync(), stack.Name, "web");
        Assert.Equal("swarm", service.GetProperty("strategy").GetString());
        var swarm = service.GetProperty("swarm");
        Assert.Equal(stack.Service("web"), swarm.GetProperty("service").GetString());
        Assert.Equal(await stack.MountedSecretsAsync("web"), swarm.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
        Assert.Equal(2, swarm.GetProperty("desired").GetInt32());

        // A new connection every 20 ms for 30 s through the agent's rotation.
        var probe = stack.ProbeAsync("web", 8080, "TOKEN", 1500, 20);
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        await stack.SetSecretAsync("shop/token", "token-two");
        var rotation = await setup.WaitForRotationAsync("web", TimeSpan.FromSeconds(120));
        var result = await probe;

        Assert.Equal("rotated", rotation.GetProperty("outcome").GetString());
        Assert.Equal("swarm", rotation.GetProperty("strategy").GetString());
        Assert.True(result.Succeeded, result.StandardError);
        Assert.Contains("probe requests=1500 failed=0\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("seen=token-one\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("seen=token-two\n", result.StandardOutput, StringComparison.Ordinal);
        var after = await stack.SecretNamesAsync();
        Assert.Equal(after, await stack.MountedSecretsAsync("web"));
        Assert.Single(before.Except(after));
        Assert.Equal(1, AgentProcess.Metric(await agent.MetricsAsync(), "dso_rotations_total{strategy=\"swarm\",result=\"rotated\"}"));
        var updated = AgentStack.Service(await setup.StatusAsync(), stack.Name, "web").GetProperty("swarm");
        Assert.Equal("completed", updated.GetProperty("updateState").GetString());
        Assert.Equal(after, updated.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
        Assert.Contains(after[0], (await stack.Project.DsoOkAsync("status")).StandardOutput, StringComparison.Ordinal);

        // G8: a restarted agent compares against its baselines and rolls nothing.
        var tasks = await EngineFixture.DockerOkAsync("service", "ps", "-q", "--filter", "desired-state=running", stack.Service("web"));
        Assert.Equal(0, await agent.StopAsync());
        await agent.StartAsync();
        await Task.Delay(4000, TestContext.Current.CancellationToken);
        Assert.Equal(after, await stack.MountedSecretsAsync("web"));
        Assert.Equal(tasks, await EngineFixture.DockerOkAsync("service", "ps", "-q", "--filter", "desired-state=running", stack.Service("web")));
        Assert.Equal(0, AgentProcess.Metric(await agent.MetricsAsync(), "dso_rotations_total{strategy=\"swarm\",result=\"rotated\"}"));

        // docker dso stack rm: the stack, its versions and the agent's watch are gone.
        await stack.Project.DsoOkAsync("stack", "rm", stack.Name);
        Assert.Empty(await stack.SecretNamesAsync());
        Assert.DoesNotContain((await setup.StatusAsync()).RootElement.GetProperty("projects").EnumerateArray(), p => p.GetProperty("name").GetString() == stack.Name);
    }

    [Fact]
    public async Task AgentWatchedStack_UnhealthyNewValue_SwarmRollsBack_RotationFailed_OldVersionKeptAndServing()
    {
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack("\"--refuse\", \"bad-\", "), "good-one", Timings);
        var stack = setup.Stack;
        await stack.DeployOkAsync();
        var before = await stack.SecretNamesAsync();

        await stack.SetSecretAsync("shop/token", "bad-two");
        var rotation = await setup.WaitForRotationAsync("web", TimeSpan.FromSeconds(150));

        Assert.Equal("failed", rotation.GetProperty("outcome").GetString());
        Assert.Contains("rolled it back", rotation.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await stack.SecretNamesAsync());
        Assert.Equal(before, await stack.MountedSecretsAsync("web"));
        var swarm = AgentStack.Service(await setup.StatusAsync(), stack.Name, "web").GetProperty("swarm");
        Assert.Equal("rollback_completed", swarm.GetProperty("updateState").GetString());
        Assert.Equal(1, AgentProcess.Metric(await setup.Agent.MetricsAsync(), "dso_rotations_total{strategy=\"swarm\",result=\"failed\"}"));
        var probe = await stack.ProbeAsync("web", 8080, "TOKEN", 20, 20);
        Assert.True(probe.StandardOutput.Contains("probe requests=20 failed=0\n", StringComparison.Ordinal), $"probe: exit {probe.ExitCode}\n{probe.StandardOutput}\n{probe.StandardError}");
        Assert.Contains("seen=good-one\n", probe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComposeProjectAndSwarmStack_OfOneName_DoNotRemoveEachOther()
    {
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack(), "token-one", Timings);
        var stack = setup.Stack;
        await stack.DeployOkAsync();

        using var ipc = setup.Agent.Ipc();
        using var removal = await ipc.DeleteAsync($"http://localhost/v1/projects/{stack.Name}?kind=compose", TestContext.Current.CancellationToken);
        var body = await removal.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.Conflict, removal.StatusCode);
        Assert.Contains("is a Swarm stack", body, StringComparison.Ordinal);
        Assert.Contains((await setup.StatusAsync()).RootElement.GetProperty("projects").EnumerateArray(), p => p.GetProperty("name").GetString() == stack.Name && p.GetProperty("kind").GetString() == "swarm");
    }
}
