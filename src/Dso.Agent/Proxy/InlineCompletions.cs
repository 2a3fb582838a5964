using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Dso.Agent.Proxy;

/// <summary>
/// Has the socket engine run a proxy socket's completions on its event thread instead of queueing
/// them to the thread pool. A proxy copy loop does nothing but the next receive or send, so the
/// hop through the pool is pure delay: under load it queues behind the agent's other work and
/// is what made the proxy's tail latency several times Docker's own. Only the proxy's sockets get
/// it; Kestrel, the engine client and the providers keep the pool (their continuations can block).
/// The switch is the runtime's experimental per-socket setting, kept for callers outside it
/// (`Socket.PreferInlineCompletions`, internal, preserved for reflection); when a runtime lacks
/// it, sockets behave as before.
/// </summary>
internal static class InlineCompletions
{
    private static volatile bool _missing;

    /// <summary>True when the socket now completes inline.</summary>
    public static bool TryEnable(Socket socket)
    {
        if (_missing)
        {
            return false;
        }

        try
        {
            SetPreferInlineCompletions(socket, true);
            return true;
        }
        catch (MissingMethodException)
        {
            _missing = true;
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetPreferInlineCompletions(Socket socket, bool value);
}
