using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

public sealed class AgentLifecycleTests
{
    [Fact]
    public async Task Agent_ServesHealthReadyAndStatus_ThenStopsCleanlyOnSigterm()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();

        var health = await agent.Rest.GetStringAsync(agent.RestUri("/health"), TestContext.Current.CancellationToken);
        var status = await ChildProcess.RunAsync(AgentProcess.Cli, ["status", "--json"], new ChildProcessOptions { Environment = agent.Environment }, TestContext.Current.CancellationToken);

        Assert.Equal("{\"status\":\"ok\"}", health);
        Assert.True(status.Succeeded, status.StandardError);
        using var json = JsonDocument.Parse(status.StandardOutput);
        var root = json.RootElement;
        Assert.Equal(["agent", "providers", "projects", "cache"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(agent.Socket, root.GetProperty("agent").GetProperty("socket").GetString());
        Assert.True(root.GetProperty("agent").GetProperty("ready").GetBoolean());
        Assert.Equal(agent.SecretsDirectory, root.GetProperty("agent").GetProperty("secretsDirectory").GetString());
        Assert.Equal("local", root.GetProperty("providers")[0].GetProperty("name").GetString());
        Assert.Equal(0, root.GetProperty("projects").GetArrayLength());

        Assert.Equal(0, await agent.StopAsync());
        Assert.False(File.Exists(agent.Socket));
        Assert.Contains("ready: 0 project(s) managed", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_TellsSystemdItIsReady_AndThatItIsStopping()
    {
        using var dir = new TempDirectory("dso-agent-");
        var notifyPath = dir.Combine("notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        await using var agent = new AgentProcess(dir);
        agent.Environment["NOTIFY_SOCKET"] = notifyPath;

        await agent.StartAsync();
        var ready = await ReceiveAsync(notify);
        await agent.StopAsync();
        var stopping = await ReceiveAsync(notify);

        Assert.Equal("READY=1", ready);
        Assert.Equal("STOPPING=1", stopping);
    }

    [Fact]
    public async Task StaleSocket_IsReplaced_ButASecondAgentOnALiveSocketIsRefused()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var first = new AgentProcess(dir);
        // A socket file left by a process that died without unlinking it (.NET would unlink its own).
        var leftover = await ChildProcess.RunAsync("python3", ["-c", $"import socket; socket.socket(socket.AF_UNIX).bind('{first.Socket}')"], null, TestContext.Current.CancellationToken);
        Assert.True(leftover.Succeeded, leftover.StandardError);

        Assert.True(File.Exists(first.Socket));
        await first.StartAsync();

        using var otherState = new TempDirectory("dso-agent-");
        await using var second = new AgentProcess(otherState);
        File.WriteAllText(second.ConfigPath, File.ReadAllText(second.ConfigPath).Replace(second.Socket, first.Socket, StringComparison.Ordinal));
        await second.StartAsync(waitReady: false);
        var exit = await second.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exit);
        Assert.Contains($"dso: another agent is already listening on {first.Socket}", second.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await first.Rest.GetAsync(first.RestUri("/health"), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task RestOffLoopback_NeedsAToken_AndThenEveryRouteButHealthRequiresIt()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var open = new AgentProcess(dir);
        File.WriteAllText(open.ConfigPath, File.ReadAllText(open.ConfigPath).Replace($"127.0.0.1:{open.Port}", $"0.0.0.0:{open.Port}", StringComparison.Ordinal));
        await open.StartAsync(waitReady: false);
        Assert.Equal(1, await open.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("is not loopback, so agent.api.token must be set", open.Output, StringComparison.Ordinal);

        using var tokenDir = new TempDirectory("dso-agent-");
        await using var guarded = new AgentProcess(tokenDir, "    token: s3cret-api-token\n");
        await guarded.StartAsync(waitReady: false);
        await WaitUntilAsync(async () => (await TryGetAsync(guarded, "/health")) == HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.Unauthorized, await TryGetAsync(guarded, "/metrics"));
        Assert.Equal(HttpStatusCode.Unauthorized, await TryGetAsync(guarded, "/ready"));
        using var request = new HttpRequestMessage(HttpMethod.Get, guarded.RestUri("/metrics"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret-api-token");
        Assert.Equal(HttpStatusCode.OK, (await guarded.Rest.SendAsync(request, TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Routes_AreServedOnTheirOwnChannelOnly_AndAnOldClientIsToldWhatToDo()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();
        using var ipc = agent.Ipc();
        using var oldIpc = agent.Ipc(version: 0);

        Assert.Equal(HttpStatusCode.NotFound, await TryGetAsync(agent, "/v1/status"));
        Assert.Equal(HttpStatusCode.NotFound, (await ipc.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ipc.GetAsync("/v1/status", TestContext.Current.CancellationToken)).StatusCode);
        var old = await oldIpc.GetAsync("/v1/status", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, old.StatusCode);
        Assert.Contains("this agent speaks IPC version 1, the client sent '0'", await old.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        var handshake = await oldIpc.GetStringAsync("/v1/handshake", TestContext.Current.CancellationToken);
        Assert.Contains("\"apiVersion\":1", handshake, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliCommandsThatNeedTheAgent_SayHowToStartItWhenNoneRuns_AndStatusReportsLocalMode()
    {
        using var dir = new TempDirectory("dso-agent-");
        var env = new Dictionary<string, string?> { [Dso.Ipc.IpcProtocol.SocketVariable] = dir.Combine("none.sock") };

        var rotate = await ChildProcess.RunAsync(AgentProcess.Cli, ["rotate"], new ChildProcessOptions { Environment = env }, TestContext.Current.CancellationToken);
        var status = await ChildProcess.RunAsync(AgentProcess.Cli, ["status"], new ChildProcessOptions { Environment = env }, TestContext.Current.CancellationToken);

        Assert.Equal(1, rotate.ExitCode);
        Assert.Equal($"dso: no agent answers on {dir.Combine("none.sock")}; start it with 'docker dso agent' (or 'systemctl start dso-agent'), or set DSO_AGENT_SOCKET\n", rotate.StandardError);
        // status in local mode (the original project's quick start runs it there) says so, and succeeds.
        Assert.True(status.ExitCode == 0, status.StandardError);
        Assert.StartsWith($"mode   local: no agent answers on {dir.Combine("none.sock")}", status.StandardOutput, StringComparison.Ordinal);
    }

    internal static async Task<HttpStatusCode?> TryGetAsync(AgentProcess agent, string path)
    {
        try
        {
            using var response = await agent.Rest.GetAsync(agent.RestUri(path));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"condition not met within {seconds} s");
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, length).Trim();
    }
}
