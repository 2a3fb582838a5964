using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Dso.Plugins;

namespace Dso.Providers.Plugins;

/// <summary>
/// One running plugin: requests go to its stdin one at a time, each answered on stdout within a
/// deadline. A plugin that hangs, answers out of turn, sends garbage or a message over the
/// protocol's limit, or exits, is killed and reported dead; the provider starts a new one.
/// Its stderr lines (capped at 4 KiB each) go to the host's log.
/// </summary>
internal sealed class PluginProcess : IAsyncDisposable
{
    private const int StderrLineLimit = 4096;
    private readonly Process _process;
    private readonly LineReader _stdout;
    private readonly Stream _stdin;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly Task _stderr;
    private readonly string _name;
    private long _nextId;
    private string? _death;

    private PluginProcess(Process process, string name, Action<string>? log)
    {
        _process = process;
        _name = name;
        _stdin = process.StandardInput.BaseStream;
        _stdout = new LineReader(process.StandardOutput.BaseStream);
        _stderr = Task.Run(() => PumpStderrAsync(process.StandardError.BaseStream, log));
    }

    public int Pid => _process.Id;

    public bool IsAlive => _death is null && !_process.HasExited;

    /// <summary>Why the process is no longer usable (null while it is).</summary>
    public string? Death => _death ?? (_process.HasExited ? $"exited with code {_process.ExitCode}" : null);

    public static PluginProcess Start(PluginLaunch launch, string name, Action<string>? log)
    {
        var program = Dso.Processes.ProgramPath.Find(launch.Command, launch.Environment.GetValueOrDefault("PATH"))
            ?? throw new PluginException($"cannot start plugin {launch.Command}: it is not on PATH");
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in launch.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (key, value) in launch.Environment)
        {
            start.Environment[key] = value;
        }

        Dso.Processes.ChildEnvironment.Strip(start.Environment);

        try
        {
            return new PluginProcess(Process.Start(start) ?? throw new PluginException($"plugin {launch.Command} did not start"), name, log);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PluginException($"cannot start plugin {launch.Command}: {e.Message}");
        }
    }

    /// <summary>
    /// Sends one request and returns its answer (dispose it). An error answer throws
    /// <see cref="PluginException"/> with its code; so does any breach, after killing the process.
    /// </summary>
    public async Task<RpcMessage> CallAsync(string method, Action<Utf8JsonWriter>? parameters, TimeSpan deadline, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (!IsAlive)
            {
                throw new PluginException($"plugin {_name} is not running ({Death})");
            }

            var id = ++_nextId;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(deadline);
            try
            {
                var request = RpcMessage.Request(id, method, parameters);
                await _stdin.WriteAsync(request, timeout.Token);
                await _stdin.FlushAsync(timeout.Token);
                var line = await _stdout.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    throw Die($"exited during {method} ({await ExitAsync()})");
                }

                RpcMessage answer;
                try
                {
                    answer = RpcMessage.Parse(line);
                }
                catch (FormatException e)
                {
                    throw Die($"broke the protocol during {method}: {e.Message}");
                }

                if (answer.Method is not null || answer.NumericId != id)
                {
                    answer.Dispose();
                    throw Die($"broke the protocol during {method}: the answer does not carry the request's id {id}");
                }

                if (answer.Error is { } error)
                {
                    answer.Dispose();
                    throw new PluginException($"plugin {_name}: {error.Message}", error.Code);
                }

                return answer;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Die($"did not answer {method} within {deadline.TotalSeconds:0.###} s");
            }
            catch (MessageTooLargeException e)
            {
                throw Die($"broke the protocol during {method}: {e.Message}");
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                throw Die($"stopped talking during {method} ({e.Message}; {await ExitAsync()})");
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// Sends any line (the conformance kit's malformed requests) and returns the next message as it
    /// came, error answers included; throws <see cref="PluginException"/> when none comes in time.
    /// </summary>
    public async Task<RpcMessage> ExchangeRawAsync(byte[] line, TimeSpan deadline, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(deadline);
            try
            {
                await _stdin.WriteAsync(line, timeout.Token);
                await _stdin.FlushAsync(timeout.Token);
                var answer = await _stdout.ReadLineAsync(timeout.Token) ?? throw Die($"exited ({await ExitAsync()})");
                try
                {
                    return RpcMessage.Parse(answer);
                }
                catch (FormatException e)
                {
                    throw Die($"broke the protocol: {e.Message}");
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Die($"did not answer within {deadline.TotalSeconds:0.###} s");
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                throw Die($"stopped talking ({e.Message})");
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Closes the plugin's stdin (the protocol says it must then exit).</summary>
    public void CloseInput() => _stdin.Close();

    /// <summary>Waits for the process to exit by itself; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Asks the plugin to shut down, waits up to <paramref name="grace"/>, then kills it.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (IsAlive)
        {
            try
            {
                (await CallAsync(PluginProtocol.Shutdown, null, grace, CancellationToken.None)).Dispose();
                _stdin.Close();
            }
            catch (Exception e) when (e is PluginException or IOException or ObjectDisposedException)
            {
            }
        }

        using var wait = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(2));
        try
        {
            await _stderr.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
        }

        _stdout.Dispose();
        _process.Dispose();
        _turn.Dispose();
    }

    private PluginException Die(string why)
    {
        _death = why;
        Kill();
        return new PluginException($"plugin {_name} {why}; it will be restarted");
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private async Task<string> ExitAsync()
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return $"exit code {_process.ExitCode}";
        }
        catch (OperationCanceledException)
        {
            return "still running";
        }
    }

    private static async Task PumpStderrAsync(Stream stderr, Action<string>? log)
    {
        var buffer = new byte[8192];
        var line = new MemoryStream();
        var dropping = false;
        int read;
        try
        {
            while ((read = await stderr.ReadAsync(buffer)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] == '\n')
                    {
                        Flush();
                        dropping = false;
                    }
                    else if (line.Length < StderrLineLimit)
                    {
                        line.WriteByte(buffer[i]);
                    }
                    else if (!dropping)
                    {
                        dropping = true;
                        Flush(" …(line cut at 4 KiB)");
                    }
                }
            }

            Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }

        void Flush(string suffix = "")
        {
            if (line.Length > 0 || suffix.Length > 0)
            {
                log?.Invoke(Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length).TrimEnd('\r') + suffix);
            }

            line.SetLength(0);
        }
    }
}
