using System.Text.Json;
using Dso.Agent.Tests;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Swarm.Tests;

/// <summary>
/// A stack deployed while the agent runs: the agent resolves the references with its own
/// providers, makes the versions, watches them, and on a change rolls the service through Swarm
/// (new version, spec swapped, Swarm's update awaited, old version removed); status shows it.
/// </summary>
public sealed class AgentSwarmTests
{
    private const string Timings = "  debounce: 300ms\n  watch:\n    polling_interval: 1s\n";

    [Fact]
    public async Task AgentWatchedStack_SecretSet_SwarmRollsItWithZeroFailedRequests_StatusShowsIt_RestartRotatesNothing()
    {
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack(), "token-one");
        var (stack, agent) = (setup.Stack, setup.Agent);
        var deploy = await stack.DeployOkAsync();
        Assert.Contains("registered with the agent", deploy.StandardError, StringComparison.Ordinal);
        var before = await stack.SecretNamesAsync();

        var service = Service(await setup.StatusAsync(), stack.Name, "web");
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
        var updated = Service(await setup.StatusAsync(), stack.Name, "web").GetProperty("swarm");
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
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack("\"--refuse\", \"bad-\", "), "good-one");
        var stack = setup.Stack;
        await stack.DeployOkAsync();
        var before = await stack.SecretNamesAsync();

        await stack.SetSecretAsync("shop/token", "bad-two");
        var rotation = await setup.WaitForRotationAsync("web", TimeSpan.FromSeconds(150));

        Assert.Equal("failed", rotation.GetProperty("outcome").GetString());
        Assert.Contains("rolled it back", rotation.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await stack.SecretNamesAsync());
        Assert.Equal(before, await stack.MountedSecretsAsync("web"));
        var swarm = Service(await setup.StatusAsync(), stack.Name, "web").GetProperty("swarm");
        Assert.Equal("rollback_completed", swarm.GetProperty("updateState").GetString());
        Assert.Equal(1, AgentProcess.Metric(await setup.Agent.MetricsAsync(), "dso_rotations_total{strategy=\"swarm\",result=\"failed\"}"));
        var probe = await stack.ProbeAsync("web", 8080, "TOKEN", 20, 20);
        Assert.Contains("probe requests=20 failed=0\n", probe.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("seen=good-one\n", probe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComposeProjectAndSwarmStack_OfOneName_DoNotRemoveEachOther()
    {
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack(), "token-one");
        var stack = setup.Stack;
        await stack.DeployOkAsync();

        using var ipc = setup.Agent.Ipc();
        using var removal = await ipc.DeleteAsync($"http://localhost/v1/projects/{stack.Name}?kind=compose", TestContext.Current.CancellationToken);
        var body = await removal.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.Conflict, removal.StatusCode);
        Assert.Contains("is a Swarm stack", body, StringComparison.Ordinal);
        Assert.Contains((await setup.StatusAsync()).RootElement.GetProperty("projects").EnumerateArray(), p => p.GetProperty("name").GetString() == stack.Name && p.GetProperty("kind").GetString() == "swarm");
    }

    private static JsonElement Service(JsonDocument status, string project, string service) =>
        status.RootElement.GetProperty("projects").EnumerateArray().Single(p => p.GetProperty("name").GetString() == project)
            .GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == service);

    /// <summary>An agent whose local vault is the stack's (one DSO_HOME), and a stack whose CLI talks to it.</summary>
    private sealed class AgentStack : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new("dso-swarm-agent-");

        private AgentStack(string compose)
        {
            Stack = new SwarmStack(compose);
            Agent = new AgentProcess(_dir, agentKeys: Timings);
            Stack.Project.Environment["DSO_HOME"] = Agent.Environment["DSO_HOME"];
            Stack.Project.Environment[IpcProtocol.SocketVariable] = Agent.Socket;
        }

        public SwarmStack Stack { get; }

        public AgentProcess Agent { get; }

        public static async Task<AgentStack> StartAsync(string compose, string token)
        {
            var setup = new AgentStack(compose);
            try
            {
                await setup.Stack.Project.WithSecretsAsync(("shop/token", token));
                await setup.Agent.StartAsync();
                return setup;
            }
            catch
            {
                await setup.DisposeAsync();
                throw;
            }
        }

        public async Task<JsonDocument> StatusAsync() => JsonDocument.Parse((await Stack.Project.DsoOkAsync("status", "--json")).StandardOutput);

        /// <summary>Polls status (bounded) until the service has a rotation result other than unchanged.</summary>
        public async Task<JsonElement> WaitForRotationAsync(string service, TimeSpan limit)
        {
            var deadline = DateTimeOffset.UtcNow + limit;
            while (DateTimeOffset.UtcNow < deadline)
            {
                using var status = await StatusAsync();
                if (Service(status, Stack.Name, service).TryGetProperty("lastRotation", out var last) && last.ValueKind == JsonValueKind.Object
                    && last.GetProperty("outcome").GetString() is "rotated" or "failed")
                {
                    return last.Clone();
                }

                await Task.Delay(500, TestContext.Current.CancellationToken);
            }

            throw new TimeoutException($"no rotation of {service} within {limit.TotalSeconds:0} s; agent output:\n{Agent.Output}");
        }

        public async ValueTask DisposeAsync()
        {
            await Stack.DisposeAsync();
            await Agent.DisposeAsync();
            _dir.Dispose();
        }
    }
}
