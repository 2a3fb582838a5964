using System.Globalization;
using System.Net.Sockets;

namespace Dso.Ipc;

/// <summary>An HttpClient that talks to the agent over its Unix socket and sends the protocol version.</summary>
internal static class UnixSocketHttp
{
    public static HttpClient Create(string socketPath, int version = IpcProtocol.Version)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://dso-agent"), Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add(IpcProtocol.VersionHeader, version.ToString(CultureInfo.InvariantCulture));
        return http;
    }
}
