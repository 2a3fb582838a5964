using System.Net.Sockets;

namespace Dso.Agent.Ipc;

/// <summary>Who is on the other end of a Unix socket connection, from the kernel (SO_PEERCRED).</summary>
internal sealed record PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static PeerCredentials? Read(Socket socket)
    {
        Span<byte> buffer = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, buffer);
        return length < 12
            ? null
            : new PeerCredentials(BitConverter.ToInt32(buffer), BitConverter.ToUInt32(buffer[4..]), BitConverter.ToUInt32(buffer[8..]));
    }

    public override string ToString() => $"pid {Pid}, uid {Uid}, gid {Gid}";
}
