using System.Runtime.InteropServices;
using System.Text;

namespace Dso.Launcher;

/// <summary>Replaces this process with the planned program (execve), finding it on PATH like execvp.</summary>
internal static unsafe class Exec
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Only returns by throwing: on success the process image is replaced.</summary>
    public static void Run(LaunchPlan plan)
    {
        var path = Locate(plan.Program, plan.Environment);
        var pathBytes = ToCString(Encoding.UTF8.GetBytes(path));
        var argv = ToPointerArray(plan.Arguments);
        var envp = ToPointerArray(plan.Environment);
        _ = Native.Execve(pathBytes, argv, envp);
        var error = Marshal.GetLastPInvokeError();
        throw new LaunchException($"cannot run {path}: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    /// <summary>The file execve should run: the program itself when it has a '/', else the first executable match on PATH.</summary>
    public static string Locate(string program, IReadOnlyList<byte[]> environment)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return program;
        }

        var pathVariable = environment
            .Select(e => Encoding.UTF8.GetString(e))
            .FirstOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..] ?? DefaultPath;
        foreach (var directory in pathVariable.Split(':'))
        {
            var candidate = Path.Combine(directory.Length == 0 ? "." : directory, program);
            if (File.Exists(candidate) && Native.Access(candidate, Native.XOk) == 0)
            {
                return candidate;
            }
        }

        throw new LaunchException($"cannot run '{program}': not found on PATH ({pathVariable})");
    }

    private static byte* ToCString(ReadOnlySpan<byte> bytes)
    {
        var memory = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(memory, bytes.Length));
        memory[bytes.Length] = 0;
        return memory;
    }

    private static byte** ToPointerArray(IReadOnlyList<byte[]> items)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < items.Count; i++)
        {
            array[i] = ToCString(items[i]);
        }

        array[items.Count] = null;
        return array;
    }
}
