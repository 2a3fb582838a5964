using System.Runtime.InteropServices;
using System.Text;

namespace Dso.Native;

/// <summary>Replacing this process with another program (execv): same pid, environment and descriptors.</summary>
internal static class ProcessImage
{
    /// <summary>Runs <paramref name="path"/> in place of this process; returns only by throwing.</summary>
    /// <param name="path">The executable.</param>
    /// <param name="arguments">argv, starting with the program's name.</param>
    public static unsafe void Replace(string path, IReadOnlyList<string> arguments)
    {
        var argv = (byte**)NativeMemory.AllocZeroed((nuint)(arguments.Count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < arguments.Count; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(arguments[i]);
            argv[i] = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 1);
            bytes.CopyTo(new Span<byte>(argv[i], bytes.Length));
        }

        _ = Libc.Execv(path, argv);
        var error = Marshal.GetLastPInvokeError();
        for (var i = 0; i < arguments.Count; i++)
        {
            NativeMemory.Free(argv[i]);
        }

        NativeMemory.Free(argv);
        throw new DsoException($"cannot run {path}: {Marshal.GetPInvokeErrorMessage(error)}");
    }
}
