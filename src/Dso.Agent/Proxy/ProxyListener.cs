using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dso.Agent.Observability;
using Dso.Ipc;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Proxy;

/// <summary>
/// One host address and port the proxy owns, routing to exactly one service's containers on one
/// container port (spec 6: a routing table per listening port and service, never shared). Each
/// accepted connection is forwarded to a container picked from the service's set at accept time
/// and stays with it until either side closes, so a swap moves new connections only.
/// </summary>
internal sealed partial class ProxyListener : IDisposable
{
    private const int AcceptLoops = 4;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly ProxyOptions _options;
    private readonly ILogger _log;
    private readonly Prometheus.Gauge.Child _active;
    private readonly Prometheus.Counter.Child _forwarded;
    private readonly Prometheus.Counter.Child _dropped;

    private ProxyListener(Socket socket, string project, string service, PortRegistration port, ServiceBackends backends, ProxyOptions options, DsoMetrics metrics, ILogger log)
    {
        _socket = socket;
        Project = project;
        Service = service;
        Port = port;
        Backends = backends;
        _options = options;
        _log = log;
        // Resolved once: a label lookup per connection is measurable at tens of thousands a second.
        _active = metrics.ProxyActive.WithLabels(project, service);
        _forwarded = metrics.ProxyConnections.WithLabels(project, service, port.HostPort.ToString(CultureInfo.InvariantCulture));
        _dropped = metrics.ProxyDropped.WithLabels(project, service, "no_backend");
    }

    public string Project { get; }

    public string Service { get; }

    public PortRegistration Port { get; }

    public ServiceBackends Backends { get; }

    /// <summary>Binds the port (a clear error when something else holds it) and starts accepting.</summary>
    public static ProxyListener Start(string project, string service, PortRegistration port, ServiceBackends backends, ProxyOptions options, DsoMetrics metrics, ILogger log)
    {
        var address = IPAddress.Parse(port.HostIp);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (!InlineCompletions.TryEnable(socket))
            {
                LogNoInlineCompletions(log);
            }
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(new IPEndPoint(address, port.HostPort));
            socket.Listen(1024);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new DsoException($"{port.Where}: the proxy cannot listen on {port.HostIp}:{port.HostPort} for {project}/{service}: {e.Message} (another program or container holds it; stop it, or change the host port)");
        }

        var listener = new ProxyListener(socket, project, service, port, backends, options, metrics, log);

        // Several accepts pending at once, so a burst of new connections is not served one by one.
        for (var i = 0; i < AcceptLoops; i++)
        {
            _ = listener.AcceptLoopAsync();
        }

        return listener;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                LogAcceptFailed(e.Message);
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        _active.Inc();
        try
        {
            using (client)
            {
                client.NoDelay = true;
                InlineCompletions.TryEnable(client);
                using var upstream = await ConnectAsync();
                if (upstream is null)
                {
                    _dropped.Inc();
                    LogNoBackend(Project, Service, Port.HostPort, _options.BackendWait);
                    return;
                }

                _forwarded.Inc();
                await PipeAsync(client, upstream);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // One side went away; the other is closed with it.
        }
        finally
        {
            _active.Dec();
        }
    }

    /// <summary>
    /// A connection to one of the service's containers. When none accepts (the set is empty during a
    /// restart, or a container is still starting), it keeps trying for backend_wait, waking as soon
    /// as the set changes, so a client sees a slow connect rather than a refused one.
    /// </summary>
    private async Task<Socket?> ConnectAsync()
    {
        var deadline = DateTime.UtcNow + _options.BackendWait;
        for (var attempt = 0; ; attempt++)
        {
            var changed = Backends.Changed;
            var count = Backends.Current.Count;
            for (var i = 0; i < count; i++)
            {
                if (Backends.Pick(i) is not { } backend)
                {
                    break;
                }

                var socket = new Socket(backend.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                InlineCompletions.TryEnable(socket);
                try
                {
                    using var timeout = new CancellationTokenSource(_options.ConnectTimeout);
                    await socket.ConnectAsync(new IPEndPoint(backend.Address, Port.ContainerPort), timeout.Token);
                    return socket;
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    socket.Dispose();
                }
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero || _stop.IsCancellationRequested)
            {
                return null;
            }

            await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100, remaining.TotalMilliseconds)), CancellationToken.None));
        }
    }

    private static async Task PipeAsync(Socket client, Socket upstream)
    {
        var toUpstream = CopyAsync(client, upstream);
        var toClient = CopyAsync(upstream, client);
        if (await Task.WhenAny(toUpstream, toClient) is { IsCompletedSuccessfully: true, Result: true })
        {
            await Task.WhenAll(toUpstream, toClient);
        }
        else
        {
            // A reset on either side ends both directions: closing the sockets wakes the other copy.
            client.Dispose();
            upstream.Dispose();
            await Task.WhenAll(toUpstream, toClient);
        }
    }

    /// <summary>
    /// Copies one direction until its end of stream, then half-closes the other socket. True at a
    /// clean end, false when a socket failed. No cancellation token: the sockets are the handle.
    /// </summary>
    private static async Task<bool> CopyAsync(Socket from, Socket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ProxyOptions.BufferSize);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                if (read == 0)
                {
                    break;
                }

                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None);
                }
            }

            to.Shutdown(SocketShutdown.Send);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "this runtime cannot complete the proxy's sockets on the socket event thread; connections are forwarded through the thread pool, with a higher tail latency under load")]
    private static partial void LogNoInlineCompletions(ILogger log);

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "proxy accept failed: {Error}")]
    private partial void LogAcceptFailed(string error);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "proxy {Project}/{Service}:{Port}: no container accepted a connection within {Wait}; the client's connection was closed")]
    private partial void LogNoBackend(string project, string service, int port, TimeSpan wait);
}
