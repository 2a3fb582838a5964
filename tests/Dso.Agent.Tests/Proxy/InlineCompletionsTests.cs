using System.Net;
using System.Net.Sockets;
using Dso.Agent.Proxy;

namespace Dso.Agent.Tests.Proxy;

/// <summary>
/// The proxy's sockets resume on the socket engine's event thread, not through the thread pool
/// (the proxy's tail latency depends on it); other sockets keep the pool. A runtime that drops the
/// switch fails here rather than slowing the proxy silently.
/// </summary>
public sealed class InlineCompletionsTests
{
    [Fact]
    public async Task AProxySocket_ResumesOnTheEventThread_AnOrdinaryOneOnThePool()
    {
        var (inline, inlineThread, inlinePool) = await ReceiveAsync(enable: true);
        var (_, ordinaryThread, ordinaryPool) = await ReceiveAsync(enable: false);

        Assert.True(inline, "the runtime has no per-socket inline completions");
        Assert.Equal(".NET Sockets", inlineThread);
        Assert.False(inlinePool);
        Assert.NotEqual(".NET Sockets", ordinaryThread);
        Assert.True(ordinaryPool);
    }

    /// <summary>A receive that has to wait (the peer writes 200 ms later), and where its continuation ran.</summary>
    private static async Task<(bool Enabled, string? Thread, bool Pool)> ReceiveAsync(bool enable)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var enabled = enable && InlineCompletions.TryEnable(client);
        await client.ConnectAsync(listener.LocalEndPoint!, TestContext.Current.CancellationToken);
        using var server = await listener.AcceptAsync(TestContext.Current.CancellationToken);
        var writer = Task.Run(
            async () =>
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
                await server.SendAsync("x"u8.ToArray(), SocketFlags.None, TestContext.Current.CancellationToken);
            },
            TestContext.Current.CancellationToken);
        var buffer = new byte[1];
        var read = await client.ReceiveAsync(buffer, SocketFlags.None, TestContext.Current.CancellationToken);
        var where = (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread);
        await writer;
        Assert.Equal(1, read);
        return (enabled, where.Name, where.IsThreadPoolThread);
    }
}
