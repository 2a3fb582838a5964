using System.Diagnostics;

namespace Dso.Bench;

/// <summary>Processes the whole-process scenarios start: the installed docker-dso, compose, wrk, docker-proxy.</summary>
public static class BenchProcess
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The docker-dso scripts/install.sh installed (~/.local/lib/dso), with the native dso-agent beside
    /// it that `docker-dso agent` hands over to: what users run.
    /// </summary>
    public static string Cli => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "lib", "dso", "docker-dso");

    /// <summary>
    /// The same docker-dso build in install.sh's publish directory, where no dso-agent sits beside it:
    /// its `agent` runs inside docker-dso on the JIT runtime (the baseline of the agent's memory).
    /// </summary>
    public static string InProcessCli => Path.Combine(Root, "artifacts", "publish", "cli", "docker-dso");

    public static string Launcher => Path.Combine(Root, "artifacts", "native", "dso-init");

    public static Process Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string? directory = null, Action<string>? output = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory ?? string.Empty };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output?.Invoke(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 })
            {
                Console.Error.WriteLine($"{Path.GetFileName(file)}: {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs a process to its end; returns its stdout. Fails on a non-zero exit when <paramref name="check"/>.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string? directory = null, bool check = true)
    {
        var output = new System.Text.StringBuilder();
        var list = args.ToList();
        using var process = Start(file, list, environment, directory, line =>
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', list)} failed ({process.ExitCode})");
        }

        lock (output)
        {
            return output.ToString();
        }
    }

    public static async Task WaitReadyAsync(HttpClient rest)
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                if ((await rest.GetAsync("/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the agent did not become ready");
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dso.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run from the repository");
    }
}
