using System.Text.RegularExpressions;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>The agent with real containers: delivery through it, reboots, restarts of the agent, metrics.</summary>
public sealed partial class AgentEngineTests(EngineFixture engine)
{
    [Fact]
    public async Task UpThroughTheAgent_DeliversTheSecrets_AndDownHandsThemBack()
    {
        await engine.RequireAsync();
        await using var setup = await Setup.StartAsync("restart: always");

        var up = await setup.Project.DsoOkAsync("up", "-d");

        var container = await setup.Project.ContainerAsync("api");
        Assert.Equal(setup.Value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(container))["DB_PASSWORD"]);
        Assert.Contains("through the agent", up.StandardError, StringComparison.Ordinal);
        Assert.Contains("registered with the agent", up.StandardError, StringComparison.Ordinal);
        Assert.StartsWith(setup.Agent.SecretsDirectory, await EngineFixture.DockerOkAsync("inspect", "--format", "{{range .Mounts}}{{if eq .Destination \"/run/secrets/dso\"}}{{.Source}}{{end}}{{end}}", container), StringComparison.Ordinal);
        var status = await setup.Project.DsoOkAsync("status");
        Assert.Matches($@"{setup.Project.Name}\s+api\s+1\s+ok\s+\S+ \(running\)", status.StandardOutput);

        await setup.Project.DsoOkAsync("down");

        Assert.False(Directory.Exists(Path.Combine(setup.Agent.SecretsDirectory, setup.Project.Name)));
        Assert.Contains("no managed projects", (await setup.Project.DsoOkAsync("status")).StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterAReboot_TheAgentRestoresTheSecrets_AndTheContainerComesBack()
    {
        await engine.RequireAsync();
        await using var setup = await Setup.StartAsync("restart: always");
        await setup.Project.DsoOkAsync("up", "-d");
        var container = await setup.Project.ContainerAsync("api");

        // A reboot: the agent is down, the RAM directory is empty, the engine restarts the container.
        await setup.Agent.StopAsync();
        Directory.Delete(Path.Combine(setup.Agent.SecretsDirectory, setup.Project.Name), recursive: true);
        await EngineFixture.DockerOkAsync("restart", "-t", "1", container);
        var logs = await WaitForLogsAsync(container, "holds no secrets manifest");
        Assert.Contains("dso-init:", logs, StringComparison.Ordinal);

        await setup.Agent.StartAsync();

        await AgentLifecycleTests.WaitUntilAsync(async () => (await EngineFixture.DockerAsync("exec", container, "true")).Succeeded, 90);
        Assert.Equal(setup.Value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(container))["DB_PASSWORD"]);
        Assert.Contains("restored the secrets of", setup.Agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartingTheAgent_LeavesEveryContainerAsItWas()
    {
        await engine.RequireAsync();
        await using var setup = await Setup.StartAsync();
        await setup.Project.DsoOkAsync("up", "-d");
        var container = await setup.Project.ContainerAsync("api");
        var before = await EngineFixture.DockerOkAsync("inspect", "--format", "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}", container);
        setup.Files.Write(new() { ["app/db"] = "a new value the agent must not push on restart" });

        await setup.Agent.StopAsync();
        await setup.Agent.StartAsync();
        await Task.Delay(2000, TestContext.Current.CancellationToken);

        Assert.Equal(before, await EngineFixture.DockerOkAsync("inspect", "--format", "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}", container));
        Assert.Equal(setup.Value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(container))["DB_PASSWORD"]);
        Assert.Contains(setup.Project.Name, (await setup.Project.DsoOkAsync("status")).StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecretThatCannotBeResolved_KeepsItsContainerDown_AndStatusSaysWhy()
    {
        await engine.RequireAsync();
        await using var setup = await Setup.StartAsync("restart: always", cache: false);
        await setup.Project.DsoOkAsync("up", "-d");
        var container = await setup.Project.ContainerAsync("api");

        setup.Files.Write([]);
        Directory.Delete(Path.Combine(setup.Agent.SecretsDirectory, setup.Project.Name), recursive: true);
        await EngineFixture.DockerOkAsync("restart", "-t", "1", container);

        string status = string.Empty;
        await AgentLifecycleTests.WaitUntilAsync(async () => (status = (await setup.Project.DsoOkAsync("status")).StandardOutput).Contains("error", StringComparison.Ordinal));
        Assert.Contains("dso://app/db: provider files: no secret named app/db", status, StringComparison.Ordinal);
        Assert.False((await EngineFixture.DockerAsync("exec", container, "true")).Succeeded);
        Assert.Contains("holds no secrets manifest", await WaitForLogsAsync(container, "dso-init"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryDocumentedMetric_ExistsAndMoves()
    {
        await engine.RequireAsync();
        await using var setup = await Setup.StartAsync("restart: always", webhookSecret: "k");
        await setup.Project.DsoOkAsync("up", "-d");
        var container = await setup.Project.ContainerAsync("api");
        var secrets = Path.Combine(setup.Agent.SecretsDirectory, setup.Project.Name);

        // Counters live in memory: restart the agent first, then do everything once.
        // A start-up repair with an empty cache (a miss), a repair from the fresh cache (a hit),
        // a container event, then a refresh while the provider fails (last known good).
        await setup.Agent.StopAsync();
        Directory.Delete(secrets, recursive: true);
        await setup.Agent.StartAsync();
        await setup.Project.DsoOkAsync("status");
        Directory.Delete(secrets, recursive: true);
        await EngineFixture.DockerOkAsync("restart", "-t", "1", container);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await EngineFixture.DockerAsync("exec", container, "true")).Succeeded, 90);
        setup.Files.WriteRaw("not json");
        await setup.Project.DsoOkAsync("rotate");
        using (var request = new HttpRequestMessage(HttpMethod.Post, setup.Agent.RestUri("/v1/webhook/files")))
        {
            (await setup.Agent.Rest.SendAsync(request, TestContext.Current.CancellationToken)).Dispose();
        }

        File.SetUnixFileMode(setup.Agent.Socket, (UnixFileMode)Convert.ToInt32("666", 8));
        var denied = await ChildProcess.RunAsync("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "/usr/bin/python3", "-c",
            "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ns.sendall(b'GET /v1/status HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n')\nprint(s.recv(100))", setup.Agent.Socket],
            null, TestContext.Current.CancellationToken);
        Assert.Contains("403", denied.StandardOutput, StringComparison.Ordinal);

        var metrics = await setup.Agent.MetricsAsync();
        var documented = MetricName().Matches(await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepositoryRoot, "docs", "metrics.md"), TestContext.Current.CancellationToken))
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(documented.Count >= 15, $"only {documented.Count} metrics documented");
        foreach (var name in documented)
        {
            var series = metrics.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal) && !l.StartsWith('#')).ToList();
            Assert.True(series.Count > 0, $"{name} is documented but not exported");
            Assert.True(series.Any(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0), $"{name} never moved:\n{string.Join('\n', series)}");
        }
    }

    private static async Task<string> WaitForLogsAsync(string container, string expected)
    {
        var logs = string.Empty;
        await AgentLifecycleTests.WaitUntilAsync(async () =>
        {
            var result = await EngineFixture.DockerAsync("logs", container);
            logs = result.StandardOutput + result.StandardError;
            return logs.Contains(expected, StringComparison.Ordinal);
        });
        return logs;
    }

    [GeneratedRegex(@"^\| `(dso_[a-z_]+)`", RegexOptions.Multiline)]
    private static partial Regex MetricName();

    /// <summary>An agent with a `file` provider, and a compose project that uses one of its secrets through it.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new("dso-agent-");

        private Setup(string restart, bool cache, string? webhookSecret, string? cacheTtl)
        {
            Files = new FileSecrets(_dir);
            Value = "agent-value-" + Guid.NewGuid().ToString("N");
            Files.Write(new() { ["app/db"] = Value });
            Agent = new AgentProcess(_dir, (webhookSecret is null ? string.Empty : $"    webhook_secret: {webhookSecret}\n") + Files.Yaml);
            var agentKeys = (cache ? string.Empty : "\n  cache: false") + (cacheTtl is null ? string.Empty : $"\n  cache_ttl: {cacheTtl}");
            File.WriteAllText(Agent.ConfigPath, File.ReadAllText(Agent.ConfigPath).Replace("  check_interval: 500ms", "  check_interval: 500ms" + agentKeys, StringComparison.Ordinal));

            Project = new ComposeProjectUnderTest($"""
                services:
                  api:
                    image: {TestImages.Busybox}
                    {restart}
                    command: ["sleep", "3600"]
                    environment:
                      DB_PASSWORD: dso://app/db
                """);
            Project.Environment[Dso.Ipc.IpcProtocol.SocketVariable] = Agent.Socket;
        }

        public FileSecrets Files { get; }

        public string Value { get; }

        public AgentProcess Agent { get; }

        public ComposeProjectUnderTest Project { get; }

        public static async Task<Setup> StartAsync(string restart = "", bool cache = true, string? webhookSecret = null, string? cacheTtl = null)
        {
            var setup = new Setup(restart, cache, webhookSecret, cacheTtl);
            await setup.Agent.StartAsync();
            return setup;
        }

        public async ValueTask DisposeAsync()
        {
            await Project.DisposeAsync();
            await Agent.DisposeAsync();
            _dir.Dispose();
        }
    }
}
