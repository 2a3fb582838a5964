using System.Runtime.InteropServices;

namespace Dso.Testing;

/// <summary>Sends Unix signals to processes a test started (SIGTERM as systemd stops a service, SIGKILL for crash tests).</summary>
public static partial class Signals
{
    public const int Hangup = 1;
    public const int Kill = 9;
    public const int Terminate = 15;

    public static void Send(int pid, int signal)
    {
        if (SendSignal(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
