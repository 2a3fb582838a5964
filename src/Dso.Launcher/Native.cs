using System.Runtime.InteropServices;

namespace Dso.Launcher;

/// <summary>libc, linked statically into dso-init (DirectPInvoke).</summary>
internal static unsafe partial class Native
{
    public const int XOk = 1;

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
    public static partial int Execve(byte* path, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);
}
