using System.Diagnostics;

namespace Dso.Processes;

/// <summary>
/// Runs a program with an argument list and waits for it, bounded by a timeout. Its environment
/// follows <see cref="ChildEnvironment"/>: the vault's credentials are never passed on.
/// </summary>
public static class ChildProcess
{
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        ChildProcessOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new ChildProcessOptions();
        var path = options.Environment.TryGetValue("PATH", out var pathOverride) ? pathOverride
            : options.BaseEnvironment is { } inherited ? inherited.GetValueOrDefault("PATH")
            : Environment.GetEnvironmentVariable("PATH");
        var startInfo = new ProcessStartInfo(ProgramPath.Resolve(fileName, path))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = !options.InheritOutput,
            RedirectStandardError = !options.InheritOutput,
            WorkingDirectory = options.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (options.BaseEnvironment is { } baseEnvironment)
        {
            startInfo.Environment.Clear();
            foreach (var (name, value) in baseEnvironment)
            {
                startInfo.Environment[name] = value;
            }
        }

        foreach (var (name, value) in options.Environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        ChildEnvironment.Strip(startInfo.Environment);
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DsoException($"cannot run '{fileName}': {e.Message}; is it installed and on PATH?", e);
        }

        var stdout = options.InheritOutput ? Task.FromResult(string.Empty)
            : options.StreamTo is { } streamTo ? CopyLinesAsync(process.StandardOutput, streamTo.Output, cancellationToken)
            : process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = options.InheritOutput ? Task.FromResult(string.Empty)
            : options.StreamTo is { } errorTo ? CopyLinesAsync(process.StandardError, errorTo.Error, cancellationToken)
            : process.StandardError.ReadToEndAsync(cancellationToken);
        await WriteInputAsync(process, options.StandardInput, cancellationToken);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new DsoException($"'{fileName} {FirstArgument(startInfo)}' did not finish within {options.Timeout.TotalSeconds:0} s and was stopped");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private static async Task<string> CopyLinesAsync(StreamReader reader, TextWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                await writer.WriteLineAsync(line);
            }
        }
        catch (OperationCanceledException)
        {
            // The caller stopped following; the process is killed below.
        }

        return string.Empty;
    }

    private static async Task WriteInputAsync(Process process, ReadOnlyMemory<byte>? input, CancellationToken cancellationToken)
    {
        try
        {
            if (input is { } bytes)
            {
                await process.StandardInput.BaseStream.WriteAsync(bytes, cancellationToken);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child exited without reading its input; its exit code tells the caller why.
        }
    }

    private static string FirstArgument(ProcessStartInfo startInfo) =>
        startInfo.ArgumentList.Count > 0 ? startInfo.ArgumentList[0] : string.Empty;
}
