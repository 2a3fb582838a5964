using System.Text.Json;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>`docker dso doctor --json`: every check has an id, a verdict and, when not passing, a fix.</summary>
public sealed class DoctorTests(EngineFixture engine)
{
    [Fact]
    public async Task Doctor_WithARunningAgent_ReportsEachCheck()
    {
        await engine.RequireAsync();
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();
        agent.Environment["DSO_INIT"] = NativeArtifacts.Launcher;

        var run = await ChildProcess.RunAsync(AgentProcess.Cli, ["doctor", "--json", "--config", agent.ConfigPath], new ChildProcessOptions { Environment = agent.Environment }, TestContext.Current.CancellationToken);

        using var json = JsonDocument.Parse(run.StandardOutput);
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
        foreach (var id in new[] { "config.valid", "engine.local", "engine.reachable", "engine.api_version", "engine.swarm", "clock.skew", "compose.available", "launcher.installed", "agent.running", "agent.membership", "agent.socket", "secrets_dir.ram", "provider.local", "state_dir.disk" })
        {
            Assert.True(checks.ContainsKey(id), $"no check {id} in {run.StandardOutput}");
        }

        Assert.False(checks.ContainsKey("proxy.forwarding"), "a check of kernel forwarding's prerequisites with proxy.forwarding: userland");
        Assert.All(checks.Values, c => Assert.Contains(c.GetProperty("verdict").GetString(), new[] { "pass", "warn", "fail" }));
        Assert.All(checks.Values.Where(c => c.GetProperty("verdict").GetString() != "pass"), c => Assert.False(string.IsNullOrEmpty(c.GetProperty("fix").GetString())));
        Assert.Equal("pass", checks["engine.reachable"].GetProperty("verdict").GetString());
        Assert.Equal("pass", checks["agent.running"].GetProperty("verdict").GetString());
        Assert.Equal("warn", checks["agent.socket"].GetProperty("verdict").GetString());

        // The solution's tests run on a plain engine (the Swarm tests run alone, after them).
        Assert.Equal("pass", checks["engine.swarm"].GetProperty("verdict").GetString());
        Assert.StartsWith("not in a swarm", checks["engine.swarm"].GetProperty("detail").GetString(), StringComparison.Ordinal);
        var failures = json.RootElement.GetProperty("failures").GetInt32();
        Assert.Equal(failures == 0 ? 0 : 1, run.ExitCode);
    }

    [Fact]
    public async Task Doctor_WithKernelForwarding_FindsNftAndIptables()
    {
        using var dir = new TempDirectory("dso-doctor-");
        var config = Path.Combine(dir.Path, "dso.yaml");
        File.WriteAllText(config, "proxy:\n  forwarding: kernel\n");
        Assert.False(File.Exists("/lib/systemd/system/dso-agent.service") || File.Exists("/etc/systemd/system/dso-agent.service"),
            "this host runs DSO's agent unit; the drop-in side of the check is tested on the systemd host (SystemdHostTests)");

        var run = await ChildProcess.RunAsync(AgentProcess.Cli, ["doctor", "--json", "--config", config], new ChildProcessOptions(), TestContext.Current.CancellationToken);

        using var json = JsonDocument.Parse(run.StandardOutput);
        var check = json.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "proxy.forwarding");
        Assert.Equal("pass", check.GetProperty("verdict").GetString());
        var detail = check.GetProperty("detail").GetString()!;
        Assert.Contains("nft (/", detail, StringComparison.Ordinal);
        Assert.Contains("iptables (/", detail, StringComparison.Ordinal);
        Assert.Contains("no systemd unit for the agent here", detail, StringComparison.Ordinal);
    }
}
