using System.Diagnostics;
using System.Text.Json;
using Dso.Ipc;

namespace Dso.Bench;

/// <summary>
/// The installed `docker-dso agent` in a work directory of its own: a `file` provider whose JSON the
/// scenario edits, a socket, a REST port, and the agent's event stream collected as it comes.
/// </summary>
internal sealed class BenchAgent : IAsyncDisposable
{
    private readonly Process _process;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<AgentEvent> _events = [];
    private Task _reader = Task.CompletedTask;

    private BenchAgent(string work, int port, Process process)
    {
        Work = work;
        Port = port;
        _process = process;
        Rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
        Ipc = UnixSocketHttp.Create(SocketPath(work));
        Ipc.Timeout = TimeSpan.FromMinutes(5);
    }

    public string Work { get; }

    public int Port { get; }

    public int Pid => _process.Id;

    public HttpClient Rest { get; }

    public HttpClient Ipc { get; }

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["DSO_AGENT_SOCKET"] = SocketPath(Work),
        ["DSO_INIT"] = BenchProcess.Launcher,
        ["DSO_SECRETS_DIR"] = $"/dev/shm/dso-bench-cli-{System.Environment.ProcessId}",
    };

    public static string SecretsFile(string work) => Path.Combine(work, "secrets.json");

    /// <summary>Writes the provider's JSON file atomically (owner-only), as an operator's tool would.</summary>
    public static void WriteSecrets(string work, IReadOnlyDictionary<string, string> secrets)
    {
        var temporary = SecretsFile(work) + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(secrets));
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, SecretsFile(work), overwrite: true);
    }

    /// <param name="work">The work directory (secrets.json must exist).</param>
    /// <param name="agentKeys">Keys under `agent:`, two-space indented (the Swarm secret driver is off: several bench agents may run at once).</param>
    /// <param name="apiKeys">Keys under `agent.api:`, four-space indented.</param>
    /// <param name="extra">Top-level sections.</param>
    public static async Task<BenchAgent> StartAsync(string work, string agentKeys = "", string apiKeys = "", string extra = "")
    {
        var port = BenchProcess.FreePort();
        var config = Path.Combine(work, "dso.yaml");
        File.WriteAllText(config, $"agent:\n  socket: {SocketPath(work)}\n  socket_group: dso-bench-absent\n  state_dir: {work}/state\n  secrets_dir: /dev/shm/dso-bench-{Path.GetFileName(work)}\n  secret_driver:\n    socket: \"\"\n{agentKeys}  api:\n    address: 127.0.0.1:{port}\n{apiKeys}providers:\n  files:\n    type: file\n    path: {SecretsFile(work)}\n{extra}");
        var process = BenchProcess.Start(BenchProcess.Cli, ["agent", "--config", config, "--log-level", "warning"], new Dictionary<string, string>());
        var agent = new BenchAgent(work, port, process);
        await BenchProcess.WaitReadyAsync(agent.Rest);
        agent._reader = agent.ReadEventsAsync();
        await Task.Delay(200);
        return agent;
    }

    /// <summary>Writes <paramref name="compose"/> to WORK/NAME/compose.yaml and runs `docker dso up -d -p NAME` there; returns the directory.</summary>
    public async Task<string> UpAsync(string name, string compose)
    {
        var directory = Path.Combine(Work, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "compose.yaml"), compose);
        await DsoAsync(directory, "up", "-d", "-p", name);
        return directory;
    }

    /// <summary>`docker dso ARGS` with this agent's socket, in <paramref name="directory"/>.</summary>
    public Task<string> DsoAsync(string directory, params string[] args) => BenchProcess.RunAsync(BenchProcess.Cli, args, Environment, directory);

    /// <summary>Waits for the first event after <paramref name="after"/> matching <paramref name="match"/>.</summary>
    public async Task<AgentEvent> WaitForEventAsync(DateTimeOffset after, Func<AgentEvent, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_events)
            {
                if (_events.FirstOrDefault(e => e.Time >= after && match(e)) is { } found)
                {
                    return found;
                }
            }

            await Task.Delay(5);
        }

        throw new TimeoutException($"no matching agent event within {timeout}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            // SIGTERM first, as systemd stops it: a kernel-forwarding agent then removes its rules.
            await BenchProcess.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], new Dictionary<string, string>(), check: false);
            using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(stopped.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            await _reader;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
        }

        Rest.Dispose();
        Ipc.Dispose();
        _process.Dispose();
        _stop.Dispose();
    }

    private static string SocketPath(string work) => Path.Combine(work, "dso.sock");

    private async Task ReadEventsAsync()
    {
        using var response = await Rest.GetAsync("/v1/events", HttpCompletionOption.ResponseHeadersRead, _stop.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token));
        while (await reader.ReadLineAsync(_stop.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal) && JsonSerializer.Deserialize(line["data: ".Length..], IpcJson.Wire.AgentEvent) is { } item)
            {
                lock (_events)
                {
                    _events.Add(item);
                }
            }
        }
    }
}
