using Dso.Agent.Tests;
using Dso.Testing;

namespace Dso.Swarm.Tests;

/// <summary>
/// The agent as Docker's secret driver (agent.secret_driver.socket in /run/docker/plugins): the
/// stack's secret versions hold names and labels only, the engine asks the agent for each value
/// when it starts a task, and nothing of a value reaches the engine's disk.
/// </summary>
public sealed class SecretDriverTests
{
    private const string Served = "dso_secret_driver_requests_total{result=\"served\"}";
    private const string Refused = "dso_secret_driver_requests_total{result=\"refused\"}";

    /// <summary>A driver name of this test's own (engines find plugins by socket name; parallel agents never share one).</summary>
    /// <summary>One busybox task that prints its dso:// variable.</summary>
    internal static readonly string OneTaskStack = $$"""
        services:
          app:
            image: {{TestImages.Busybox}}
            command: ["sh", "-c", "echo TOKEN=$$TOKEN; sleep 3600"]
            environment:
              TOKEN: dso://shop/token
        """;

    internal static string NewDriver() => $"dsot{Guid.NewGuid():N}"[..16];

    internal static string Socket(string driver) => $"/run/docker/plugins/{driver}.sock";

    [Fact]
    public async Task DriverStack_TasksGetValuesFromTheAgent_SwarmHoldsNone_ChangeRollsWithZeroFailed_NoValueOnDisk()
    {
        var driver = NewDriver();
        var one = ComposeProjectUnderTest.Canary();
        var two = ComposeProjectUnderTest.Canary();
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack(), one, AgentSwarmTests.Timings, Socket(driver));
        var (stack, agent) = (setup.Stack, setup.Agent);

        var deploy = await stack.DeployOkAsync();

        Assert.Contains($"with driver {driver}: Swarm stores names and labels only", deploy.StandardError, StringComparison.Ordinal);
        var names = await stack.SecretNamesAsync();
        Assert.NotEmpty(names);
        foreach (var name in names)
        {
            Assert.Equal(driver, await EngineFixture.DockerOkAsync("secret", "inspect", name, "--format", "{{.Spec.Driver.Name}}"));
        }

        using (var status = await setup.StatusAsync())
        {
            Assert.Equal(driver, status.RootElement.GetProperty("agent").GetProperty("secretDriver").GetString());
        }

        Assert.Contains($"Swarm secret driver {driver} on {Socket(driver)}", (await stack.Project.DsoOkAsync("status")).StandardOutput, StringComparison.Ordinal);

        // Asked once per task for each secret the task mounts: two replicas.
        Assert.Equal(2 * names.Length, AgentProcess.Metric(await agent.MetricsAsync(), Served));

        var probe = stack.ProbeAsync("web", 8080, "TOKEN", 1500, 20);
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        await stack.SetSecretAsync("shop/token", two);
        var rotation = await setup.WaitForRotationAsync("web", TimeSpan.FromSeconds(120));
        var result = await probe;

        Assert.Equal("rotated", rotation.GetProperty("outcome").GetString());
        Assert.True(result.Succeeded, result.StandardError);
        Assert.Contains("probe requests=1500 failed=0\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"seen={one}\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"seen={two}\n", result.StandardOutput, StringComparison.Ordinal);
        var after = await stack.SecretNamesAsync();
        Assert.Equal(after, await stack.MountedSecretsAsync("web"));
        Assert.Equal(4 * names.Length, AgentProcess.Metric(await agent.MetricsAsync(), Served));

        var root = await EngineFixture.DockerOkAsync("info", "--format", "{{.DockerRootDir}}");
        var inspect = await EngineFixture.DockerOkAsync(["secret", "inspect", .. after]);
        foreach (var canary in new[] { one, two })
        {
            Assert.False(CanaryScanner.Holds(System.Text.Encoding.UTF8.GetBytes(inspect), canary), "docker secret inspect holds a value");
            // The engine's data root, Raft log included; the running tasks' secrets are on tmpfs (RAM), passed over.
            Assert.Empty(CanaryScanner.FindIn([root, stack.Project.Directory, agent.Directory.Path, Path.GetTempPath()], canary, diskOnly: true));
        }

        await stack.Project.DsoOkAsync("stack", "rm", stack.Name);
        Assert.Empty(await stack.SecretNamesAsync());
        foreach (var canary in new[] { one, two })
        {
            Assert.Empty(CanaryScanner.FindIn([root], canary, diskOnly: true));
        }
    }

    [Fact]
    public async Task DriverStack_UnhealthyValue_SwarmRollsBack_TasksStartedLaterGetTheOldVersionsValue()
    {
        var driver = NewDriver();
        await using var setup = await AgentStack.StartAsync(StackDeployTests.ServingStack("\"--refuse\", \"bad-\", "), "good-one", AgentSwarmTests.Timings, Socket(driver));
        var stack = setup.Stack;
        await stack.DeployOkAsync();
        var before = await stack.SecretNamesAsync();

        await stack.SetSecretAsync("shop/token", "bad-two");
        var rotation = await setup.WaitForRotationAsync("web", TimeSpan.FromSeconds(150));

        Assert.Equal("failed", rotation.GetProperty("outcome").GetString());
        Assert.Contains("rolled it back", rotation.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await stack.MountedSecretsAsync("web"));

        // New tasks on the rolled-back spec: the driver serves the version they mount, not the provider's newest value.
        await EngineFixture.DockerOkAsync("service", "update", "--force", "--quiet", stack.Service("web"));
        var probe = await stack.ProbeAsync("web", 8080, "TOKEN", 20, 20);
        Assert.True(probe.StandardOutput.Contains("probe requests=20 failed=0\n", StringComparison.Ordinal), $"probe: exit {probe.ExitCode}\n{probe.StandardOutput}\n{probe.StandardError}");
        Assert.Contains("seen=good-one\n", probe.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("bad-two", probe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandMadeReference_IsServed_AStacksVersionMountedByAnotherService_IsRefused()
    {
        var driver = NewDriver();
        var value = ComposeProjectUnderTest.Canary();
        await using var setup = await AgentStack.StartAsync(SecretDriverTests.OneTaskStack, value, AgentSwarmTests.Timings, Socket(driver));
        var stack = setup.Stack;
        await stack.DeployOkAsync();
        var handMade = $"{stack.Name}-handmade";
        var reader = $"{stack.Name}-reader";
        var impostor = $"{stack.Name}-impostor";
        try
        {
            // docker secret create --driver dso --label dso.ref=… by hand: resolved for the service that mounts it.
            await EngineFixture.DockerOkAsync("secret", "create", "--driver", driver, "--label", "dso.ref=dso://shop/token", "--label", $"com.docker.stack.namespace={stack.Name}", handMade);
            await EngineFixture.DockerOkAsync("service", "create", "--detach", "--name", reader, "--label", $"com.docker.stack.namespace={stack.Name}", "--secret", handMade,
                TestImages.Busybox, "sh", "-c", $"echo HAND=$(cat /run/secrets/{handMade}); sleep 3600");
            var logs = await WaitForAsync(async () =>
            {
                var text = (await EngineFixture.DockerAsync("service", "logs", "--raw", reader)).StandardOutput;
                return text.Contains("HAND=", StringComparison.Ordinal) ? text : null;
            }, TimeSpan.FromSeconds(60));
            Assert.Contains($"HAND={value}", logs, StringComparison.Ordinal);

            // A secret that claims to be the stack's version, mounted by a service of someone else: refused.
            var version = (await stack.MountedSecretsAsync("app"))[0];
            var labels = await EngineFixture.DockerOkAsync("secret", "inspect", version, "--format", "{{range $k, $v := .Spec.Labels}}{{$k}}={{$v}}\n{{end}}");
            var copied = labels.Split('\n', StringSplitOptions.RemoveEmptyEntries).SelectMany(l => new[] { "--label", l }).ToArray();
            await EngineFixture.DockerOkAsync(["secret", "create", "--driver", driver, .. copied, impostor]);
            await EngineFixture.DockerOkAsync("service", "create", "--detach", "--name", impostor, "--label", $"com.docker.stack.namespace={stack.Name}", "--secret", impostor,
                TestImages.Busybox, "sh", "-c", $"echo STOLEN=$(cat /run/secrets/{impostor}); sleep 3600");
            await WaitForAsync(async () => AgentProcess.Metric(await setup.Agent.MetricsAsync(), Refused) >= 1 ? "refused" : null, TimeSpan.FromSeconds(60));

            Assert.Contains($"belongs to service {stack.Service("app")}; service {impostor} may not mount it", setup.Agent.Output, StringComparison.Ordinal);

            // A request written by hand on the socket (as root), claiming the stack's labels and service: the engine knows no such task.
            var labelsJson = string.Join(',', labels.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => $"\"{l[..l.IndexOf('=', StringComparison.Ordinal)]}\":\"{l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]}\""));
            var forged = await AgentProcess.AskDriverAsync(SecretDriverTests.Socket(driver),
                $"{{\"SecretName\":\"{version}\",\"SecretLabels\":{{{labelsJson}}},\"ServiceName\":\"{stack.Service("app")}\",\"TaskID\":\"forged\"}}");
            Assert.Contains("there is no task forged in the swarm", forged, StringComparison.Ordinal);
            Assert.DoesNotContain(value, forged, StringComparison.Ordinal);
            Assert.DoesNotContain(value, (await EngineFixture.DockerAsync("service", "logs", "--raw", impostor)).StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(value, setup.Agent.Output, StringComparison.Ordinal);
        }
        finally
        {
            await EngineFixture.DockerAsync("service", "rm", reader, impostor);
            await WaitForAsync(async () => (await EngineFixture.DockerAsync("secret", "rm", handMade, impostor)).Succeeded ? "removed" : null, TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Polls <paramref name="probe"/> every 500 ms until it answers, at most <paramref name="limit"/>.</summary>
    internal static async Task<string> WaitForAsync(Func<Task<string?>> probe, TimeSpan limit)
    {
        var deadline = DateTimeOffset.UtcNow + limit;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await probe() is { } answer)
            {
                return answer;
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"not within {limit.TotalSeconds:0} s");
    }
}

/// <summary>
/// The agent down while Swarm starts a task. Alone, after the other tests: while the engine waits
/// on a driver that does not answer (about 30 s of retries per task), the manager's dispatcher
/// holds back other assignments to that node too (a `docker run` attaching to an overlay network
/// times out), which would fail tests running beside it.
/// </summary>
[Collection(nameof(AgentDownAlone))]
public sealed class SecretDriverAgentDownTests
{
    [Fact]
    public async Task AgentDownAtTaskStart_TaskFailsWithoutAValue_StartsOnceTheAgentIsBack()
    {
        var driver = SecretDriverTests.NewDriver();
        var value = ComposeProjectUnderTest.Canary();
        await using var setup = await AgentStack.StartAsync(SecretDriverTests.OneTaskStack, value, AgentSwarmTests.Timings, SecretDriverTests.Socket(driver));
        var stack = setup.Stack;
        await stack.DeployOkAsync();
        Assert.Contains($"TOKEN={value}", await stack.LogsAsync("app", "TOKEN="), StringComparison.Ordinal);

        Assert.Equal(0, await setup.Agent.StopAsync());
        await EngineFixture.DockerOkAsync("service", "update", "--force", "--detach", stack.Service("app"));
        var failed = await SecretDriverTests.WaitForAsync(async () =>
        {
            var errors = await EngineFixture.DockerOkAsync("service", "ps", stack.Service("app"), "--no-trunc", "--format", "{{.CurrentState}} {{.Error}}");
            return errors.Contains("unable to get secret", StringComparison.Ordinal) ? errors : null;
        }, TimeSpan.FromSeconds(120));
        Assert.DoesNotContain("Running", (await EngineFixture.DockerOkAsync("service", "ps", stack.Service("app"), "--filter", "desired-state=running", "--format", "{{.CurrentState}}")).Split('\n')[0], StringComparison.Ordinal);

        await setup.Agent.StartAsync();
        var running = await SecretDriverTests.WaitForAsync(async () =>
        {
            var states = await EngineFixture.DockerOkAsync("service", "ps", stack.Service("app"), "--filter", "desired-state=running", "--format", "{{.CurrentState}}");
            return states.StartsWith("Running", StringComparison.Ordinal) ? states : null;
        }, TimeSpan.FromSeconds(120));
        var task = await EngineFixture.DockerOkAsync("ps", "-q", "--filter", $"label=com.docker.swarm.service.name={stack.Service("app")}");
        Assert.Contains($"TOKEN={value}", (await EngineFixture.DockerOkAsync("logs", task.Split('\n')[0])), StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"while the agent was down: {failed}\nafter: {running}");
    }
}

[CollectionDefinition(nameof(AgentDownAlone), DisableParallelization = true)]
public sealed class AgentDownAlone;
