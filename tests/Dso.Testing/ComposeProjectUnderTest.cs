using System.Text;
using Dso.Processes;

namespace Dso.Testing;

/// <summary>
/// One compose project under test: a temp project directory, its own DSO_HOME with a key-file
/// vault, its own RAM secrets directory, and the real `docker-dso` executable (beside the test
/// assembly, which references the CLI) run as a process.
/// Disposing takes the project down with plain compose and removes everything it made.
/// </summary>
public sealed class ComposeProjectUnderTest : IAsyncDisposable
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "docker-dso");
    private readonly TempDirectory _dir = new("dso-e2e-");

    public ComposeProjectUnderTest(string composeYaml)
    {
        Name = "dsot" + Guid.NewGuid().ToString("N")[..10];
        SecretsDirectory = $"/dev/shm/dso-test-{Name}";
        _dir.WriteFile("compose.yaml", composeYaml);
        Environment = new Dictionary<string, string?>
        {
            ["DSO_HOME"] = _dir.Combine(".dso"),
            ["DSO_SECRETS_DIR"] = SecretsDirectory,
            ["DSO_INIT"] = NativeArtifacts.Launcher,
            ["COMPOSE_PROJECT_NAME"] = Name,
            ["DSO_PASSPHRASE"] = null,
            ["DSO_MASTER_KEY"] = null,
        };
    }

    public string Name { get; }

    public string Directory => _dir.Path;

    public string SecretsDirectory { get; }

    public string DsoHome => _dir.Combine(".dso");

    public Dictionary<string, string?> Environment { get; }

    /// <summary>How `docker dso` is run: the executable beside the tests, or (for an installed package) `docker dso`.</summary>
    public IReadOnlyList<string> Command { get; set; } = [Cli];

    public static string Canary() => "canary-" + Guid.NewGuid().ToString("N");

    public string WriteFile(string name, string content) => _dir.WriteFile(name, content);

    public Task<ProcessResult> DsoAsync(params string[] args) => DsoWithInputAsync(null, args);

    public Task<ProcessResult> DsoWithInputAsync(byte[]? stdin, params string[] args) =>
        ChildProcess.RunAsync(Command[0], [.. Command.Skip(1), .. args], new ChildProcessOptions
        {
            WorkingDirectory = _dir.Path,
            Environment = Environment,
            StandardInput = stdin,
            Timeout = TimeSpan.FromMinutes(3),
        }, TestContext.Current.CancellationToken);

    public async Task<ProcessResult> DsoOkAsync(params string[] args)
    {
        var result = await DsoAsync(args);
        Assert.True(result.Succeeded, $"docker dso {string.Join(' ', args)} failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
        return result;
    }

    /// <summary>
    /// The persistent trees a value must never reach (G1): the engine's data root, containerd's,
    /// their run directories, /var/log, the temp directory, the project and its DSO home, and
    /// <paramref name="more"/> (a HOME of the DSO processes, say).
    /// </summary>
    public async Task<string[]> DiskTreesAsync(params string[] more)
    {
        var dataRoot = await EngineFixture.DockerOkAsync("info", "--format", "{{.DockerRootDir}}");
        return [dataRoot, "/var/lib/containerd", "/run/docker", "/run/containerd", "/var/log", Path.GetTempPath(), Directory, DsoHome, .. more];
    }

    /// <summary>Creates the vault and stores the given secrets.</summary>
    public async Task WithSecretsAsync(params (string Name, string Value)[] secrets)
    {
        await DsoOkAsync("init");
        foreach (var (name, value) in secrets)
        {
            var result = await DsoWithInputAsync(Encoding.UTF8.GetBytes(value + "\n"), "secret", "set", name);
            Assert.True(result.Succeeded, result.StandardError);
        }
    }

    /// <summary>The ids of the running (or all, with <paramref name="all"/>) containers of a service, found by compose labels.</summary>
    public async Task<string[]> ContainersAsync(string service, bool all = false)
    {
        var output = await EngineFixture.DockerOkAsync([
            "ps", .. all ? new[] { "-a" } : [], "-q",
            "--filter", $"label=com.docker.compose.project={Name}",
            "--filter", $"label=com.docker.compose.service={service}"]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public async Task<string> ContainerAsync(string service) => Assert.Single(await ContainersAsync(service));

    /// <summary>Every container of the project, running or not.</summary>
    public async Task<string[]> AllContainersAsync()
    {
        var output = await EngineFixture.DockerOkAsync("ps", "-aq", "--filter", $"label=com.docker.compose.project={Name}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Environment of PID 1 in a running container, read with docker exec (never logged).</summary>
    public static async Task<Dictionary<string, string>> Pid1EnvironmentAsync(string container)
    {
        var raw = await EngineFixture.DockerOkAsync("exec", container, "cat", "/proc/1/environ");
        return raw.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty);
    }

    public async ValueTask DisposeAsync()
    {
        await TestCompose.RunAsync(["-p", Name, "-f", _dir.Combine("compose.yaml"), "down", "-v", "--remove-orphans", "-t", "1"],
            new ChildProcessOptions { WorkingDirectory = _dir.Path, Timeout = TimeSpan.FromMinutes(2) });
        var leftovers = await AllContainersAsync();
        if (leftovers.Length > 0)
        {
            await EngineFixture.DockerAsync(["rm", "-f", .. leftovers]);
        }

        if (System.IO.Directory.Exists(SecretsDirectory))
        {
            System.IO.Directory.Delete(SecretsDirectory, recursive: true);
        }

        _dir.Dispose();
    }
}
