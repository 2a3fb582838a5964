using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>The agent with real containers: delivery through it, reboots, restarts of the agent, metrics.</summary>
public sealed class AgentEngineTests(EngineFixture engine)
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
    public async Task AChangeMadeWhileTheAgentWasDown_IsRotatedWhenItStarts()
    {
        await engine.RequireAsync();
        await using var setup = await Setup.StartAsync();
        await setup.Project.DsoOkAsync("up", "-d");
        var container = await setup.Project.ContainerAsync("api");

        await setup.Agent.StopAsync();
        setup.Files.Write(new() { ["app/db"] = "changed-while-the-agent-was-down" });
        await setup.Agent.StartAsync();

        var current = container;
        await AgentLifecycleTests.WaitUntilAsync(async () => (await setup.Project.ContainersAsync("api")) is [var only] && (current = only) != container, 60);
        Assert.Equal("changed-while-the-agent-was-down", (await ComposeProjectUnderTest.Pid1EnvironmentAsync(current))["DB_PASSWORD"]);
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
