using Docker.DotNet;
using Dso.Processes;

namespace Dso.Testing;

/// <summary>
/// The real Docker engine, shared by the tests of one assembly. It finds a running engine, builds
/// the test images once, and on dispose removes every container the run labelled. A test that
/// needs the engine calls <see cref="RequireAsync"/>: without an engine it is skipped locally and
/// fails under CI=true, never skipped silently.
/// </summary>
public sealed class EngineFixture : IAsyncLifetime
{
    private readonly Lazy<Task<string?>> _availability;

    public EngineFixture()
    {
        _availability = new Lazy<Task<string?>>(ProbeAsync);
    }

    /// <summary>Labels every test-created engine resource carries.</summary>
    public static IReadOnlyDictionary<string, string> Labels { get; } = new Dictionary<string, string>
    {
        [TestImages.TestLabel] = "true",
        ["dso.test.run"] = TestEnvironment.RunId,
    };

    public DockerClient Client { get; } = new DockerClientBuilder().Build();

    /// <summary>Ensures the engine answers and the test images exist; skips or fails otherwise.</summary>
    public async Task RequireAsync()
    {
        var problem = await _availability.Value;
        if (problem is null)
        {
            return;
        }

        var message = $"the Docker engine is not usable: {problem}. Start it (scripts/test.sh installs and starts dockerd).";
        if (TestEnvironment.IsCi)
        {
            throw new InvalidOperationException(message + " CI=true: tests that need the engine fail instead of skipping.");
        }

        Assert.Skip(message);
    }

    /// <summary>Runs the `docker` CLI: the independent path tests use to check what DSO did.</summary>
    public static Task<ProcessResult> DockerAsync(params string[] args) =>
        ChildProcess.RunAsync("docker", args, new ChildProcessOptions { Timeout = TimeSpan.FromMinutes(2) });

    /// <summary>Runs the `docker` CLI and returns its trimmed stdout, failing the test on a non-zero exit.</summary>
    public static async Task<string> DockerOkAsync(params string[] args)
    {
        var result = await DockerAsync(args);
        Assert.True(result.Succeeded, $"docker {string.Join(' ', args)} failed ({result.ExitCode}): {result.StandardError}");
        return result.StandardOutput.Trim();
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_availability.IsValueCreated && await _availability.Value is null)
        {
            await RemoveLabelledContainersAsync();
        }

        Client.Dispose();
    }

    private async Task<string?> ProbeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Client.System.PingAsync(timeout.Token);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            return $"no answer from the engine ({e.GetType().Name}: {e.Message})";
        }

        try
        {
            await TestImages.EnsureBuiltAsync();
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }

        return null;
    }

    private static async Task RemoveLabelledContainersAsync()
    {
        var ids = await DockerAsync("ps", "-aq", "--filter", $"label=dso.test.run={TestEnvironment.RunId}");
        var list = ids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (list.Length > 0)
        {
            await DockerAsync(["rm", "-f", .. list]);
        }
    }
}
