using System.Runtime.InteropServices;

namespace Dso.Native;

/// <summary>
/// An exclusive advisory lock (flock) on a lock file, held until disposed or until the process
/// dies — the kernel releases it then, so a killed writer never leaves a stale lock behind.
/// </summary>
public sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd)
    {
        _fd = fd;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock; throws a <see cref="DsoException"/> naming the file if it is not free by then.</summary>
    public static FileLock Acquire(string lockPath, TimeSpan timeout, string purpose)
    {
        var fd = Libc.Open(lockPath, Libc.ORdWr | Libc.OCreat | Libc.OCloExec, 0x180 /* 0600 */);
        if (fd < 0)
        {
            throw new DsoException($"cannot open lock file {lockPath}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var delay = 1;
        while (Libc.Flock(fd, Libc.LockEx | Libc.LockNb) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            if (error != Libc.EWouldBlock || Environment.TickCount64 > deadline)
            {
                _ = Libc.Close(fd);
                throw new DsoException(error == Libc.EWouldBlock
                    ? $"{purpose} is locked by another process (lock {lockPath}) for more than {timeout.TotalSeconds:0} s; try again when it has finished"
                    : $"cannot lock {lockPath}: {Marshal.GetPInvokeErrorMessage(error)}");
            }

            Thread.Sleep(delay);
            delay = Math.Min(delay * 2, 50);
        }

        return new FileLock(fd);
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _ = Libc.Flock(fd, Libc.LockUn);
            _ = Libc.Close(fd);
        }
    }
}
