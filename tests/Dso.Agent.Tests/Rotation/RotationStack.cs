using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// An agent with a `file` provider and short timings (debounce, polling, drain grace), and a compose
/// project deployed through it. The compose text may use {PORT} and {PORT2}: free loopback ports for
/// the proxy or the containers. Values change by editing the provider's file.
/// </summary>
internal sealed class RotationStack : IAsyncDisposable
{
    public const string TestTimings = "  debounce: 300ms\n  watch:\n    polling_interval: 1s\n  rotation:\n    grace_period: 1s\n    health_check_timeout: 20s\n";

    private readonly TempDirectory _dir = new("dso-rot-");

    private RotationStack(string compose, Dictionary<string, string> secrets, string agentKeys, string extraYaml, string apiKeys, string? secretDriver = null, string? secretsEngine = null)
    {
        Port = AgentProcess.FreePort();
        Port2 = AgentProcess.FreePort();
        Files = new FileSecrets(_dir);
        Files.Write(secrets);
        Agent = new AgentProcess(_dir, apiKeys + Files.Yaml + extraYaml, agentKeys: agentKeys, secretDriver: secretDriver, secretsEngine: secretsEngine);
        Project = new ComposeProjectUnderTest(compose.Replace("{PORT}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{PORT2}", Port2.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Project.Environment[IpcProtocol.SocketVariable] = Agent.Socket;
        Secrets = new Dictionary<string, string>(secrets);
    }

    public int Port { get; }

    public int Port2 { get; }

    public FileSecrets Files { get; }

    public AgentProcess Agent { get; }

    public ComposeProjectUnderTest Project { get; }

    public Dictionary<string, string> Secrets { get; }

    public TempDirectory Directory => _dir;

    /// <param name="compose">The compose file ({PORT}, {PORT2} replaced).</param>
    /// <param name="secrets">The `file` provider's secrets.</param>
    /// <param name="agentKeys">Keys under `agent:` (test timings by default).</param>
    /// <param name="extraYaml">More top-level dso.yaml sections.</param>
    /// <param name="agentEnvironment">Variables for the agent process.</param>
    /// <param name="secretsFirst">Runs before the agent starts (to create a local vault, say).</param>
    /// <param name="apiKeys">More keys under `agent.api:`, each line indented by four spaces.</param>
    /// <param name="secretDriver">The Swarm secret driver's socket (off by default).</param>
    /// <param name="secretsEngine">The Secrets Engine resolver's socket (off by default).</param>
    public static async Task<RotationStack> UpAsync(
        string compose,
        Dictionary<string, string> secrets,
        string agentKeys = TestTimings,
        string extraYaml = "",
        Dictionary<string, string?>? agentEnvironment = null,
        Func<RotationStack, Task>? secretsFirst = null,
        string apiKeys = "",
        string? secretDriver = null,
        string? secretsEngine = null)
    {
        var stack = new RotationStack(compose, secrets, agentKeys, extraYaml, apiKeys, secretDriver, secretsEngine);
        try
        {
            foreach (var (key, value) in agentEnvironment ?? [])
            {
                stack.Agent.Environment[key] = value;
            }

            if (secretsFirst is not null)
            {
                await secretsFirst(stack);
            }

            await stack.Agent.StartAsync();
            await stack.Project.DsoOkAsync("up", "-d");
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>A stack whose agent and CLI get a cloud fake's credentials (its environment); <paramref name="secretsFirst"/> runs after that.</summary>
    public static Task<RotationStack> UpAsync(Dso.Fakes.CloudFake fake, string compose, string extraYaml, string agentKeys = TestTimings, Func<RotationStack, Task>? secretsFirst = null) =>
        UpAsync(
            compose,
            [],
            agentKeys: agentKeys,
            extraYaml: extraYaml,
            agentEnvironment: fake.Environment.ToDictionary(e => e.Key, e => (string?)e.Value),
            secretsFirst: async stack =>
            {
                foreach (var (key, value) in fake.Environment)
                {
                    stack.Project.Environment[key] = value;
                }

                if (secretsFirst is not null)
                {
                    await secretsFirst(stack);
                }
            });

    /// <summary>Changes one secret in the provider (the agent's file watch sees it at once).</summary>
    public void Set(string path, string value)
    {
        Secrets[path] = value;
        Files.Write(Secrets);
    }

    /// <summary>`docker dso rotate --json ARGS…`: the agent's results.</summary>
    public async Task<IReadOnlyList<RotationResult>> RotateAsync(params string[] args)
    {
        var result = await Project.DsoAsync(["rotate", "--json", .. args]);
        Assert.True(result.ExitCode is 0 or 1, $"docker dso rotate failed ({result.ExitCode}): {result.StandardError}");
        return JsonSerializer.Deserialize(result.StandardOutput, IpcJson.Wire.RotateResponse)!.Results;
    }

    /// <summary>One request to the test app on a loopback port: its report (variables, files, signals).</summary>
    public static async Task<string> QueryAsync(int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync("127.0.0.1", port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync("ONCE\n"u8.ToArray(), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>Waits (at most <paramref name="seconds"/>) until a query on <paramref name="port"/> contains <paramref name="expected"/>; returns the last answer.</summary>
    public static async Task<string> WaitForAnswerAsync(int port, string expected, int seconds = 30)
    {
        var answer = string.Empty;
        await AgentLifecycleTests.WaitUntilAsync(async () =>
        {
            try
            {
                answer = await QueryAsync(port);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                answer = e.Message;
            }

            return answer.Contains(expected, StringComparison.Ordinal);
        }, seconds);
        return answer;
    }

    /// <summary>Every container of the project whose name marks it as a swap's temporary.</summary>
    public async Task<string[]> TemporariesAsync()
    {
        var names = await EngineFixture.DockerOkAsync("ps", "-a", "--format", "{{.Names}}", "--filter", $"label=com.docker.compose.project={Project.Name}");
        return [.. names.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => n.Contains("-dso-", StringComparison.Ordinal))];
    }

    /// <summary>`docker inspect` of one container, formatted.</summary>
    public static Task<string> InspectAsync(string container, string format) => EngineFixture.DockerOkAsync("inspect", "--format", format, container);

    public async Task<double> MetricAsync(string series) => AgentProcess.Metric(await Agent.MetricsAsync(), series);

    /// <summary>Waits until the agent counts <paramref name="count"/> rotations with this strategy and result.</summary>
    public async Task WaitForRotationsAsync(string strategy, string result, int count, int seconds = 60) =>
        await AgentLifecycleTests.WaitUntilAsync(async () => await MetricAsync($"dso_rotations_total{{strategy=\"{strategy}\",result=\"{result}\"}}") >= count, seconds);

    public async ValueTask DisposeAsync()
    {
        await Project.DisposeAsync();
        await Agent.DisposeAsync();
        _dir.Dispose();
    }
}
