using System.Net;
using System.Net.Sockets;
using System.Text;
using Dso.Agent.Observability;
using Dso.Agent.Proxy;
using Dso.Ipc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dso.Agent.Tests.Proxy;

/// <summary>The proxy on real loopback sockets, with loopback listeners standing in for containers.</summary>
public sealed class TcpProxyTests : IDisposable
{
    private readonly TcpProxy _proxy = new(new ProxyOptions(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(800)), new DsoMetrics("test"), NullLogger<TcpProxy>.Instance);
    private readonly List<TcpListener> _backends = [];

    [Fact]
    public async Task AConnection_IsForwarded_BothWays_AndHalfCloseIsPassedOn()
    {
        var containerPort = FreePort();
        Backend("one", "127.0.0.2", containerPort);
        var port = Listen("p", "s", containerPort);
        _proxy.Reset("p", "s", [new Backend("c1", IPAddress.Parse("127.0.0.2"))]);

        Assert.Equal("one:hello", await AskAsync(port, "hello"));
    }

    [Fact]
    public async Task ASwitch_SendsNewConnectionsToTheNewContainer_WhileAnOpenOneStaysWithTheOld()
    {
        var containerPort = FreePort();
        Backend("old", "127.0.0.2", containerPort, keepOpen: true);
        Backend("new", "127.0.0.3", containerPort);
        var port = Listen("p", "s", containerPort);
        var backends = _proxy.BackendsOf("p", "s");
        _proxy.Reset("p", "s", [new Backend("old", IPAddress.Parse("127.0.0.2"))]);
        using var open = new TcpClient();
        await open.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        var stream = open.GetStream();
        await stream.WriteAsync("before\n"u8.ToArray(), TestContext.Current.CancellationToken);
        Assert.Equal("old:before", await ReadLineAsync(stream));

        using (backends.Pin())
        {
            _proxy.Started("p", "s", new Backend("ignored-while-pinned", IPAddress.Parse("127.0.0.9")));
            Assert.Equal(["old"], backends.Current.Select(b => b.ContainerId));
            backends.Replace([new Backend("new", IPAddress.Parse("127.0.0.3"))], byRotation: true);
        }

        Assert.Equal("new:after", await AskAsync(port, "after"));
        await stream.WriteAsync("still\n"u8.ToArray(), TestContext.Current.CancellationToken);
        Assert.Equal("old:still", await ReadLineAsync(stream));
    }

    [Fact]
    public async Task WithNoContainer_ANewConnectionWaitsForOne_AndIsServedWhenItArrives()
    {
        var containerPort = FreePort();
        Backend("late", "127.0.0.2", containerPort);
        var port = Listen("p", "s", containerPort);

        var ask = AskAsync(port, "waiting");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        _proxy.Started("p", "s", new Backend("late", IPAddress.Parse("127.0.0.2")));

        Assert.Equal("late:waiting", await ask.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WhenNoContainerAcceptsWithinTheWait_TheClientIsClosed()
    {
        var port = Listen("p", "s", FreePort());

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        var read = await client.GetStream().ReadAsync(new byte[16], TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.Equal(0, read);
    }

    [Fact]
    public async Task TwoServicesOnTwoPorts_HaveTheirOwnContainers()
    {
        var containerPort = FreePort();
        Backend("a", "127.0.0.2", containerPort);
        Backend("b", "127.0.0.3", containerPort);
        var portA = Listen("p", "alpha", containerPort);
        var portB = Listen("p", "beta", containerPort);
        _proxy.Reset("p", "alpha", [new Backend("a", IPAddress.Parse("127.0.0.2"))]);
        _proxy.Reset("p", "beta", [new Backend("b", IPAddress.Parse("127.0.0.3"))]);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal("a:x", await AskAsync(portA, "x"));
            Assert.Equal("b:x", await AskAsync(portB, "x"));
        }
    }

    [Fact]
    public void APortAnotherServiceProxies_OrSomethingElseHolds_IsRefusedWithOneLine()
    {
        var port = Listen("p", "alpha", FreePort());
        var taken = new PortRegistration("127.0.0.1", port, 80, PortRegistration.FromCompose, "compose.yaml:9");

        var twice = Assert.Throws<DsoException>(() => _proxy.Apply("q", new Dictionary<string, IReadOnlyList<PortRegistration>> { ["beta"] = [taken] }));
        Assert.Contains("already proxied for p/alpha", twice.Message, StringComparison.Ordinal);

        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var busy = new PortRegistration("127.0.0.1", ((IPEndPoint)squatter.LocalEndpoint).Port, 80, PortRegistration.FromCompose, "compose.yaml:12");
        var held = Assert.Throws<DsoException>(() => _proxy.Apply("q", new Dictionary<string, IReadOnlyList<PortRegistration>> { ["gamma"] = [busy] }));
        Assert.StartsWith("compose.yaml:12: the proxy cannot listen on 127.0.0.1:", held.Message, StringComparison.Ordinal);
        Assert.Empty(_proxy.PortsOf("q", "gamma"));
    }

    public void Dispose()
    {
        _proxy.Dispose();
        foreach (var backend in _backends)
        {
            backend.Stop();
        }
    }

    private int Listen(string project, string service, int containerPort)
    {
        var port = FreePort();
        var existing = _proxy.PortsOf(project, service).ToList();
        var all = new Dictionary<string, IReadOnlyList<PortRegistration>>();
        foreach (var other in new[] { "s", "alpha", "beta" }.Where(s => s != service))
        {
            if (_proxy.PortsOf(project, other) is { Count: > 0 } ports)
            {
                all[other] = ports;
            }
        }

        all[service] = [.. existing, new PortRegistration("127.0.0.1", port, containerPort, PortRegistration.FromCompose, "compose.yaml:1")];
        _proxy.Apply(project, all);
        return port;
    }

    /// <summary>A stand-in container on a loopback address answering each line with "NAME:line" (closing after it unless <paramref name="keepOpen"/>).</summary>
    private void Backend(string name, string address, int port, bool keepOpen = false)
    {
        var listener = new TcpListener(IPAddress.Parse(address), port);
        listener.Start();
        _backends.Add(listener);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var stream = client.GetStream();
                        using var reader = new StreamReader(stream, Encoding.UTF8, false, 64, leaveOpen: true);
                        while (await reader.ReadLineAsync() is { } line)
                        {
                            await stream.WriteAsync(Encoding.UTF8.GetBytes($"{name}:{line}\n"));
                            if (!keepOpen)
                            {
                                client.Client.Shutdown(SocketShutdown.Send);
                            }
                        }
                    }
                });
            }
        });
    }

    private static async Task<string> AskAsync(int port, string line)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
        client.Client.Shutdown(SocketShutdown.Send);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return (await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5))).TrimEnd('\n');
    }

    private static async Task<string> ReadLineAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(5)) == 1 && one[0] != '\n')
        {
            bytes.Add(one[0]);
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static int FreePort() => AgentProcess.FreePort();
}
