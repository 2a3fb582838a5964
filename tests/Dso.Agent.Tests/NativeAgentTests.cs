using System.Text.Json;
using Dso.Agent.Hosting;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>
/// The agent users run is the NativeAOT dso-agent that `docker dso agent` hands over to. These
/// tests run the one scripts/build-native.sh made, copied beside the tests' docker-dso (as an
/// install puts it), so every AgentProcess test in this run exercises it too.
/// </summary>
public sealed class NativeAgentTests
{
    private static readonly string NativeAgent = Path.Combine(AppContext.BaseDirectory, AgentMain.ExecutableName);

    [Fact]
    public async Task DockerDsoAgent_BecomesTheNativeAgent_SamePid_AndServesStatus()
    {
        RequireNativeAgent();
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();

        var executable = File.ResolveLinkTarget($"/proc/{agent.Pid}/exe", returnFinalTarget: false)?.FullName;
        var command = File.ReadAllText($"/proc/{agent.Pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var status = await ChildProcess.RunAsync(AgentProcess.Cli, ["status", "--json"], new ChildProcessOptions { Environment = agent.Environment }, TestContext.Current.CancellationToken);

        Assert.Equal(NativeAgent, executable);
        Assert.Equal(["dso-agent", "--config", agent.ConfigPath, "--log-level", "debug"], command);
        Assert.True(status.Succeeded, status.StandardError);
        using var json = JsonDocument.Parse(status.StandardOutput);
        Assert.Equal(agent.Pid, json.RootElement.GetProperty("agent").GetProperty("pid").GetInt32());
        Assert.Equal(0, await agent.StopAsync());
    }

    [Fact]
    public async Task NativeAgent_RefusesWrongArguments_WithOneLineAndExit2()
    {
        RequireNativeAgent();
        var cancel = TestContext.Current.CancellationToken;

        var unknown = await ChildProcess.RunAsync(NativeAgent, ["--confg", "x"], cancellationToken: cancel);
        var level = await ChildProcess.RunAsync(NativeAgent, ["--log-level", "loud"], cancellationToken: cancel);
        var missing = await ChildProcess.RunAsync(NativeAgent, ["--config"], cancellationToken: cancel);
        var version = await ChildProcess.RunAsync(NativeAgent, ["--version"], cancellationToken: cancel);

        Assert.Equal((2, $"dso-agent: unknown argument '--confg'\n{AgentMain.Usage}\n"), (unknown.ExitCode, unknown.StandardError));
        Assert.Equal((2, $"dso-agent: 'loud' is not a log level (trace, debug, info, warning or error)\n{AgentMain.Usage}\n"), (level.ExitCode, level.StandardError));
        Assert.Equal((2, $"dso-agent: --config needs a value\n{AgentMain.Usage}\n"), (missing.ExitCode, missing.StandardError));
        Assert.Equal((0, $"dso-agent {StatusReporter.Version}\n"), (version.ExitCode, version.StandardOutput));
    }

    [Fact]
    public async Task NativeAgent_AndDockerDsoAgent_NameTheSameConfigurationMistake()
    {
        RequireNativeAgent();
        using var dir = new TempDirectory("dso-agent-");
        var config = dir.WriteFile("dso.yaml", "agent:\n  sockett: /tmp/x\n");
        var cancel = TestContext.Current.CancellationToken;

        var native = await ChildProcess.RunAsync(NativeAgent, ["--config", config], cancellationToken: cancel);
        var cli = await ChildProcess.RunAsync(AgentProcess.Cli, ["agent", "--config", config], cancellationToken: cancel);

        Assert.Equal(1, native.ExitCode);
        Assert.Equal(1, cli.ExitCode);
        Assert.StartsWith("dso: dso.yaml:2: agent.sockett is not a known key of agent", native.StandardError, StringComparison.Ordinal);
        Assert.Equal(cli.StandardError, native.StandardError);
    }

    [Theory]
    [InlineData(new string[0], null, null)]
    [InlineData(new[] { "--config", "a.yaml", "--log-level", "warning" }, "a.yaml", "warning")]
    [InlineData(new[] { "--config=b.yaml", "--log-level=trace" }, "b.yaml", "trace")]
    public void Parse_ReadsConfigAndLevel(string[] args, string? config, string? level)
    {
        var parsed = AgentMain.Parse(args);

        Assert.Null(parsed.Problem);
        Assert.Equal((config, level), (parsed.ConfigPath, parsed.LogLevel));
    }

    [Fact]
    public void Arguments_ForTheHandOver_AreReadBackUnchanged()
    {
        var argv = Dso.Ipc.AgentExecutable.Arguments("/etc/dso/dso.yaml", "info");

        var parsed = AgentMain.Parse([.. argv.Skip(1)]);

        Assert.Equal("dso-agent", argv[0]);
        Assert.Equal(("/etc/dso/dso.yaml", "info"), (parsed.ConfigPath, parsed.LogLevel));
        Assert.Equal(["dso-agent"], Dso.Ipc.AgentExecutable.Arguments(null, null));
    }

    private static void RequireNativeAgent()
    {
        if (File.Exists(NativeAgent))
        {
            return;
        }

        var message = $"{NativeAgent} is missing: run scripts/build-native.sh, then build the tests (scripts/test.sh does both)";
        if (TestEnvironment.IsCi)
        {
            Assert.Fail(message);
        }

        Assert.Skip(message);
    }
}
