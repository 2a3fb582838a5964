using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>
/// A real `docker-dso agent` process with its own dso.yaml: a socket, REST port, state directory
/// and RAM directory of its own under a temp directory and /dev/shm. Its stdout and stderr are
/// kept for the redaction checks. Stopped with SIGTERM, as systemd does.
/// </summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    public static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "docker-dso");

    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <param name="directory">Where its socket, state and dso.yaml live.</param>
    /// <param name="extraYaml">Top-level dso.yaml sections (providers, proxy, …).</param>
    /// <param name="group">The socket group.</param>
    /// <param name="agentKeys">More keys under `agent:`, each line indented by two spaces.</param>
    /// <param name="secretDriver">The secret driver's socket (in /run/docker/plugins); none by default, so agents of parallel tests never share one.</param>
    /// <param name="secretsEngine">Serve the Secrets Engine resolver API on this socket (none by default).</param>
    public AgentProcess(TempDirectory directory, string extraYaml = "", string group = "dso-agent-test-absent", string agentKeys = "", string? secretDriver = null, string? secretsEngine = null)
    {
        Directory = directory;
        Socket = directory.Combine("run", "dso.sock");
        SecretDriverSocket = secretDriver;
        SecretsEngineSocket = secretsEngine;
        StateDirectory = directory.Combine("state");
        SecretsDirectory = $"/dev/shm/dso-test-agent-{Guid.NewGuid():N}";
        Port = FreePort();
        ConfigPath = directory.WriteFile("dso.yaml", $"""
            agent:
              socket: {Socket}
              socket_group: {group}
              state_dir: {StateDirectory}
              secrets_dir: {SecretsDirectory}
              check_interval: 500ms
              secret_driver:
                socket: "{secretDriver}"
              secrets_engine:
                socket: "{secretsEngine}"
            {agentKeys}
              api:
                address: 127.0.0.1:{Port}
            {extraYaml}
            """);
        System.IO.Directory.CreateDirectory(directory.Combine("run"));
        File.SetUnixFileMode(directory.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        Environment = new Dictionary<string, string?>
        {
            ["DSO_HOME"] = directory.Combine(".dso"),
            [IpcProtocol.SocketVariable] = Socket,
            ["DSO_PASSPHRASE"] = null,
            ["DSO_MASTER_KEY"] = null,
            ["NOTIFY_SOCKET"] = null,
            ["JOURNAL_STREAM"] = null,
        };
    }

    public TempDirectory Directory { get; }

    /// <summary>The secret driver's socket, or null when this agent serves none.</summary>
    public string? SecretDriverSocket { get; }

    /// <summary>The Secrets Engine resolver's socket, or null when the agent serves none.</summary>
    public string? SecretsEngineSocket { get; }

    public string Socket { get; }

    public string StateDirectory { get; }

    public string SecretsDirectory { get; }

    public string ConfigPath { get; }

    public int Port { get; }

    public Dictionary<string, string?> Environment { get; }

    /// <summary>The docker-dso that runs the agent: the one beside the tests, or an installed one.</summary>
    public string Executable { get; set; } = Cli;

    public string AuditLog => Path.Combine(StateDirectory, "audit.log");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process?.HasExited ?? true;

    public int Pid => _process!.Id;

    public int ExitCode => _process!.ExitCode;

    public HttpClient Rest { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public Uri RestUri(string path) => new($"http://127.0.0.1:{Port}{path}");

    /// <summary>Starts the agent and waits (at most 30 s) until /ready answers 200, or it exits.</summary>
    public async Task StartAsync(string logLevel = "debug", bool waitReady = true)
    {
        var start = new ProcessStartInfo(Executable)
        {
            ArgumentList = { "agent", "--config", ConfigPath, "--log-level", logLevel },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in Environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!waitReady)
        {
            return;
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the agent exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Rest.GetAsync(RestUri("/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the agent did not become ready in 30 s:\n{Output}");
    }

    /// <summary>Waits for the process to exit (after a failed start, or a stop).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process!.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL (a crash): nothing of the agent runs after it; returns the exit code.</summary>
    public async Task<int> KillAsync()
    {
        _process!.Kill();
        return await WaitForExitAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>SIGTERM, then wait up to 15 s for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return _process?.ExitCode ?? 0;
        }

        Signals.Send(_process.Id, Signals.Terminate);
        return await WaitForExitAsync(TimeSpan.FromSeconds(15));
    }

    public async Task<string> MetricsAsync() => await Rest.GetStringAsync(RestUri("/metrics"));

    /// <summary>The value of one metric series in the Prometheus text, or 0 when absent.</summary>
    public static double Metric(string text, string series)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>An IPC client on the agent's socket, sending the protocol version header.</summary>
    public HttpClient Ipc(int version = IpcProtocol.Version)
    {
        var client = UnixSocketHttp.Create(Socket, version);
        client.Timeout = TimeSpan.FromSeconds(60);
        return client;
    }

    /// <summary>One GetSecret request written to a secret driver's socket as the engine would send it; returns the answer's body.</summary>
    public static async Task<string> AskDriverAsync(string socket, string json)
    {
        using var client = UnixSocketHttp.Create(socket);
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var answer = await client.PostAsync("/SecretProvider.GetSecret", content);
        return await answer.Content.ReadAsStringAsync();
    }

    /// <summary>One GetSecrets call in the Connect protocol's JSON form on a Secrets Engine resolver socket; returns the status and body.</summary>
    public static async Task<(int Status, string Body)> AskSecretsEngineAsync(string socket, string pattern)
    {
        using var client = UnixSocketHttp.Create(socket);
        using var content = new StringContent(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["pattern"] = pattern }), Encoding.UTF8, "application/json");
        using var answer = await client.PostAsync("/resolver.v1.ResolverService/GetSecrets", content);
        return ((int)answer.StatusCode, await answer.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_process is { HasExited: false })
        {
            _process.Kill();
        }

        _process?.Dispose();
        Rest.Dispose();
        if (System.IO.Directory.Exists(SecretsDirectory))
        {
            System.IO.Directory.Delete(SecretsDirectory, recursive: true);
        }
    }

    /// <summary>
    /// A loopback port no one listens on, below the kernel's ephemeral range: a port the kernel
    /// handed out (bind to 0) is in that range, where any test's outgoing connection may take it
    /// before the agent or its proxy binds it. Never the same port twice in this process.
    /// </summary>
    public static int FreePort()
    {
        var floor = EphemeralFloor();
        lock (PortGate)
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var port = Random.Shared.Next(Math.Max(1024, floor - 12000), floor);
                if (!HandedOut.Add(port))
                {
                    continue;
                }

                try
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    listener.Stop();
                    return port;
                }
                catch (SocketException)
                {
                }
            }
        }

        throw new InvalidOperationException($"no free loopback port below {floor} after 500 tries");
    }

    private static readonly Lock PortGate = new();
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>The first port of net.ipv4.ip_local_port_range (32768 unless the host changed it).</summary>
    private static int EphemeralFloor()
    {
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.TryParse(text[0], System.Globalization.CultureInfo.InvariantCulture, out var floor) && floor > 14000 ? floor : 32768;
        }
        catch (IOException)
        {
            return 32768;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
