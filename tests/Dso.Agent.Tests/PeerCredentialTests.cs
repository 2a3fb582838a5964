using Dso.Native;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>
/// G10: the socket admits root and members of its group, checked per connection with SO_PEERCRED.
/// The test makes a group and two users (one in it) and connects as each with setpriv.
/// </summary>
public sealed class PeerCredentialTests : IAsyncLifetime
{
    private SocketUsers _users = null!;

    private string Group => _users.Group;

    private string Outsider => _users.Outsider;

    private string Member => _users.Member;

    public async ValueTask InitializeAsync() => _users = await SocketUsers.CreateAsync("dsot");

    public ValueTask DisposeAsync() => _users.DisposeAsync();

    [Fact]
    public async Task Socket_Is0660RootGroup_RefusesOutsiders_ServesMembersAndRoot()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir, group: Group);
        await agent.StartAsync();

        var owner = UnixFiles.Ownership(agent.Socket);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, owner.Mode);
        Assert.Equal(0u, owner.Uid);
        Assert.Equal(Dso.Agent.Ipc.PeerAuthorizer.LookUpGroup(Group), owner.Gid);

        // An outsider's command gets one line saying why and what to do, not a crash.
        var refused = await ChildProcess.RunAsync("setpriv", SocketUsers.Setpriv(Outsider, AgentProcess.Cli, "--config", agent.ConfigPath, "status"), new ChildProcessOptions { Environment = agent.Environment }, TestContext.Current.CancellationToken);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal(
            $"dso: cannot open the agent's socket {agent.Socket}: permission denied; it admits root and members of group {Group}: sudo usermod -aG {Group} $USER, then log in again (or run the command with sudo)",
            refused.StandardError.TrimEnd('\n'));

        // doctor tells the outsider the same, and still checks the socket's mode and group (not "local mode").
        var doctor = await ChildProcess.RunAsync("setpriv", SocketUsers.Setpriv(Outsider, AgentProcess.Cli, "--config", agent.ConfigPath, "doctor"), new ChildProcessOptions { Environment = agent.Environment }, TestContext.Current.CancellationToken);
        Assert.Matches(@"agent\.membership\s+fail\s+cannot open the agent's socket", doctor.StandardOutput);
        Assert.Matches($@"agent\.socket\s+pass\s+{System.Text.RegularExpressions.Regex.Escape(agent.Socket)} is 0660 root:{Group}", doctor.StandardOutput);
        Assert.DoesNotContain("local mode", doctor.StandardOutput, StringComparison.Ordinal);

        // Outsiders cannot even open a 0660 socket; loosen it to prove the per-connection check
        // refuses them on its own, as it would after a misconfiguration.
        File.SetUnixFileMode(agent.Socket, (UnixFileMode)Convert.ToInt32("666", 8));
        var outsider = await RequestAs(Outsider, agent.Socket);
        var member = await RequestAs(Member, agent.Socket);
        var root = await ChildProcess.RunAsync(AgentProcess.Cli, ["status"], new ChildProcessOptions { Environment = agent.Environment }, TestContext.Current.CancellationToken);

        Assert.StartsWith("HTTP/1.1 403", outsider, StringComparison.Ordinal);
        Assert.Contains($"is neither root nor a member of group {Group}", outsider, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", member, StringComparison.Ordinal);
        Assert.Contains("\"apiVersion\":1", member, StringComparison.Ordinal);
        Assert.True(root.Succeeded, root.StandardError);
        var audit = await File.ReadAllTextAsync(agent.AuditLog, TestContext.Current.CancellationToken);
        Assert.Contains("\"action\":\"connect\"", audit, StringComparison.Ordinal);
        Assert.Contains("\"result\":\"denied\"", audit, StringComparison.Ordinal);
        Assert.Equal(1, AgentProcess.Metric(await agent.MetricsAsync(), "dso_ipc_denied_total"));
        Figures.Record("G10", "IPC socket: its mode, and what a user outside the group, a member and root got", $"{Convert.ToString((int)owner.Mode, 8)}; {outsider[..12]}, {member[..12]}, {(root.Succeeded ? "served" : "refused")}");
    }

    [Fact]
    public async Task WithoutTheGroup_TheSocketIsRootOnly_AndTheAgentWarns()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir, group: "dso-no-such-group");
        await agent.StartAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(agent.Socket));
        Assert.Contains("group dso-no-such-group does not exist, so the socket", agent.Output, StringComparison.Ordinal);
    }

    private static async Task<string> RequestAs(string user, string socket)
    {
        const string Script = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ns.sendall(b'GET /v1/handshake HTTP/1.1\\r\\nHost: agent\\r\\nConnection: close\\r\\n\\r\\n')\nout=b''\nwhile True:\n  d=s.recv(4096)\n  if not d: break\n  out+=d\nsys.stdout.write(out.decode())\n";
        var result = await ChildProcess.RunAsync("setpriv", SocketUsers.Setpriv(user, "/usr/bin/python3", "-c", Script, socket), null, TestContext.Current.CancellationToken);
        Assert.True(result.Succeeded, $"setpriv as {user}: {result.StandardError}");
        return result.StandardOutput;
    }
}
