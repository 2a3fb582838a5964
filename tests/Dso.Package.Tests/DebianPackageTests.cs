using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dso.Agent.Tests;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Package.Tests;

/// <summary>
/// The .deb as an operator meets it: installed, upgraded and removed with dpkg on this machine,
/// then the path of a new user — install, migrate a plain-text project, up, rotate — through the
/// installed `docker dso` and the installed agent.
/// </summary>
public sealed partial class DebianPackageTests(EngineFixture engine) : IAsyncLifetime
{
    private const string Package = "docker-dso";
    private const string Plugin = "/usr/libexec/docker/cli-plugins/docker-dso";
    private const string Executable = "/usr/lib/dso/docker-dso";
    private const string NativeAgent = "/usr/lib/dso/dso-agent";
    private readonly TempDirectory _dir = new("dso-deb-");
    private bool _groupExisted;

    public async ValueTask InitializeAsync()
    {
        Assert.True(Dso.Native.UnixFiles.EffectiveUserId == 0, "the package tests install with dpkg and need root");
        await PurgeAsync();
        _groupExisted = (await RunAsync("getent", "group", "dso")).Succeeded;
    }

    public async ValueTask DisposeAsync()
    {
        await PurgeAsync();
        if (Directory.Exists("/var/lib/dso"))
        {
            Directory.Delete("/var/lib/dso", recursive: true);
        }

        if (!_groupExisted)
        {
            await RunAsync("groupdel", "dso");
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Install_Upgrade_Remove_Purge_DoWhatAnOperatorExpects()
    {
        var current = NativeArtifacts.DebianPackage;
        var version = await OkAsync("dpkg-deb", "-f", current, "Version");
        var older = await RepackAsync(current, "0.0.1~test", "usr/share/doc/docker-dso/DROPPED-IN-THE-NEXT-VERSION");

        // Install: the plugin answers through the real docker CLI, the group, modes, man page and units are in place.
        var install = await OkAsync("dpkg", "-i", older);
        Assert.Contains("'docker dso' is ready", install, StringComparison.Ordinal);
        Assert.Contains("DSO ", await DockerDsoAsync("version"), StringComparison.Ordinal);
        Assert.Contains("dso:", await OkAsync("getent", "group", "dso"), StringComparison.Ordinal);
        Assert.Equal("640 root dso", await OkAsync("stat", "-c", "%a %U %G", "/etc/dso/dso.yaml"));
        Assert.Equal("700 root root", await OkAsync("stat", "-c", "%a %U %G", "/var/lib/dso"));
        Assert.Equal("/usr/share/man/man1/docker-dso.1.gz", await OkAsync("man", "-w", "docker-dso"));
        Assert.Contains($"ExecStart={NativeAgent} --config /etc/dso/dso.yaml", File.ReadAllText("/lib/systemd/system/dso-agent.service"), StringComparison.Ordinal);
        var verify = await RunAsync("systemd-analyze", "verify", "/lib/systemd/system/dso-agent.service", "/lib/systemd/system/run-dso-secrets.mount");
        Assert.True(verify.Succeeded, verify.StandardError);
        Assert.DoesNotContain("dso-agent.service:", verify.StandardError, StringComparison.Ordinal);
        Assert.Contains($"'{Executable}'", File.ReadAllText("/usr/share/bash-completion/completions/docker-dso"), StringComparison.Ordinal);
        Assert.True(File.Exists("/usr/share/doc/docker-dso/DROPPED-IN-THE-NEXT-VERSION"));

        // Upgrade: the operator's edit of the conffile survives, files the new version dropped are gone.
        File.AppendAllText("/etc/dso/dso.yaml", "# edited by the operator\n");
        await OkAsync("dpkg", "-i", current);
        Assert.Equal($"install ok installed {version}", await OkAsync("dpkg-query", "-W", "-f", "${Status} ${Version}", Package));
        Assert.EndsWith("# edited by the operator\n", File.ReadAllText("/etc/dso/dso.yaml"), StringComparison.Ordinal);
        Assert.Equal("640 root dso", await OkAsync("stat", "-c", "%a %U %G", "/etc/dso/dso.yaml"));
        Assert.False(File.Exists("/usr/share/doc/docker-dso/DROPPED-IN-THE-NEXT-VERSION"));
        Assert.Contains($"DSO {version}", await DockerDsoAsync("version"), StringComparison.Ordinal);
        Assert.Equal($"dso-agent {version}", await OkAsync(NativeAgent, "--version"));
        Assert.Equal("755 root root", await OkAsync("stat", "-c", "%a %U %G", NativeAgent));

        // Remove: the programs go, the configuration stays.
        File.WriteAllText("/var/lib/dso/vault.dso", "a vault");
        File.WriteAllText("/var/lib/dso/projects.json", "{}");
        await OkAsync("dpkg", "-r", Package);
        Assert.False(File.Exists(Plugin) || File.Exists(Executable) || File.Exists(NativeAgent));
        Assert.NotEqual(0, (await RunAsync("docker", "dso", "version")).ExitCode);
        Assert.True(File.Exists("/etc/dso/dso.yaml"));
        Assert.Equal("deinstall ok config-files", await OkAsync("dpkg-query", "-W", "-f", "${Status}", Package));

        // Purge: configuration and state go, a vault never does.
        var purge = await RunAsync("dpkg", "-P", Package);
        Assert.True(purge.Succeeded, purge.StandardError);
        Assert.Contains("kept /var/lib/dso: it holds a vault", purge.StandardOutput + purge.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/etc/dso"));
        Assert.Equal("a vault", File.ReadAllText("/var/lib/dso/vault.dso"));
        Assert.False(File.Exists("/var/lib/dso/projects.json"));
        var status = await RunAsync("dpkg-query", "-W", "-f", "${Status}", Package);
        Assert.False(status.Succeeded && (status.StandardOutput.Contains("installed", StringComparison.Ordinal) || status.StandardOutput.Contains("config-files", StringComparison.Ordinal)), status.StandardOutput);
    }

    /// <summary>
    /// The issue's "done when": on this machine, install the .deb, migrate a compose + .env project,
    /// deploy it with `up`, change the secret, and see the rotation in the series the dashboard queries.
    /// </summary>
    [Fact]
    public async Task NewUser_InstallsMigratesDeploys_AndSeesTheRotationOnTheDashboardsQueries()
    {
        await engine.RequireAsync();
        await OkAsync("dpkg", "-i", NativeArtifacts.DebianPackage);
        var first = ComposeProjectUnderTest.Canary();
        var second = ComposeProjectUnderTest.Canary();

        await using var agent = new AgentProcess(_dir, agentKeys: "  debounce: 300ms\n  watch:\n    polling_interval: 1s\n") { Executable = Executable };
        await using var stack = new ComposeProjectUnderTest($$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: restart
                environment:
                  API_TOKEN: ${API_TOKEN}
                  LOG_LEVEL: info
            """)
        {
            Command = ["docker", "dso"],
        };
        stack.WriteFile(".env", $"API_TOKEN={first}\n");
        stack.Environment["DSO_HOME"] = agent.Environment["DSO_HOME"];
        stack.Environment["DSO_INIT"] = null;
        stack.Environment["DOCKER_CONFIG"] = TestCompose.WithComposePlugin(_dir.Combine("docker-config"));
        stack.Environment[Dso.Ipc.IpcProtocol.SocketVariable] = agent.Socket;
        await stack.DsoOkAsync("init");
        await agent.StartAsync();
        Assert.Equal(NativeAgent, File.ResolveLinkTarget($"/proc/{agent.Pid}/exe", returnFinalTarget: false)?.FullName);

        var migrate = await stack.DsoOkAsync("migrate", "--project", "shop");
        Assert.Contains("next: docker dso up -f compose.dso.yaml", migrate.StandardOutput, StringComparison.Ordinal);
        await stack.DsoOkAsync("up", "-f", "compose.dso.yaml", "-d");
        var before = await stack.ContainerAsync("api");
        Assert.Equal(first, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(before))["API_TOKEN"]);

        var set = await stack.DsoWithInputAsync(Encoding.UTF8.GetBytes(second), "secret", "set", "shop/API_TOKEN");
        Assert.True(set.Succeeded, set.StandardError);
        var rotated = "dso_rotations_total{strategy=\"restart\",result=\"rotated\"}";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && AgentProcess.Metric(await agent.MetricsAsync(), rotated) < 1)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        var metrics = await agent.MetricsAsync();
        Assert.True(AgentProcess.Metric(metrics, rotated) == 1, $"no rotation counted; agent output:\n{agent.Output}");
        var after = await stack.ContainerAsync("api");
        Assert.Equal(second, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(after))["API_TOKEN"]);

        // The dashboard's rotation panels query series that now show this rotation.
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, "dashboards", "grafana.json")));
        var rotationQueries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!))
            .Where(q => q.Contains("dso_rotations_total", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(rotationQueries);
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("dso_rotations_total{", StringComparison.Ordinal) && l.Contains("result=\"rotated\"", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal));
        var labels = rotationQueries.SelectMany(q => Label().Matches(q).SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries))).Distinct().ToList();
        Assert.Contains("strategy", labels);
        Assert.All(labels, label =>
            Assert.Contains(metrics.Split('\n'), l => l.StartsWith("dso_rotations_total{", StringComparison.Ordinal) && l.Contains(label + "=", StringComparison.Ordinal)));
        var inspect = await EngineFixture.DockerOkAsync("inspect", after);
        Assert.DoesNotContain(second, inspect, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"by \(([a-z_, ]+)\)")]
    private static partial Regex Label();

    private async Task<string> RepackAsync(string deb, string version, string extraFile)
    {
        var root = _dir.Combine("repack");
        await OkAsync("dpkg-deb", "-R", deb, root);
        var control = Path.Combine(root, "DEBIAN", "control");
        File.WriteAllText(control, Regex.Replace(File.ReadAllText(control), "^Version: .*$", $"Version: {version}", RegexOptions.Multiline));
        File.WriteAllText(Path.Combine(root, extraFile), "from the older version\n");
        var path = _dir.Combine($"docker-dso_{version}_amd64.deb");
        await OkAsync("dpkg-deb", "--root-owner-group", "-b", root, path);
        return path;
    }

    private async Task<string> DockerDsoAsync(params string[] args)
    {
        var result = await ChildProcess.RunAsync("docker", ["dso", .. args], new ChildProcessOptions
        {
            Environment = new Dictionary<string, string?> { ["DOCKER_CONFIG"] = _dir.Combine("docker-config") },
        }, TestContext.Current.CancellationToken);
        Assert.True(result.Succeeded, $"docker dso {string.Join(' ', args)}: {result.StandardError}");
        return result.StandardOutput;
    }

    private static async Task PurgeAsync()
    {
        await RunAsync("dpkg", "-P", Package);
    }

    /// <summary>
    /// The docker CLI runs with a configuration directory of its own, so a `docker-dso` a user
    /// installed under ~/.docker/cli-plugins (scripts/install.sh) cannot stand in for the package's.
    /// </summary>
    private static readonly string DockerConfig = TestCompose.WithComposePlugin(Directory.CreateTempSubdirectory("dso-package-docker-config-").FullName);

    private static Task<ProcessResult> RunAsync(string file, params string[] args) =>
        ChildProcess.RunAsync(file, args, new ChildProcessOptions
        {
            Timeout = TimeSpan.FromMinutes(3),
            Environment = file == "docker" ? new Dictionary<string, string?> { ["DOCKER_CONFIG"] = DockerConfig } : new Dictionary<string, string?>(),
        }, TestContext.Current.CancellationToken);

    private static async Task<string> OkAsync(string file, params string[] args)
    {
        var result = await RunAsync(file, args);
        Assert.True(result.Succeeded, $"{file} {string.Join(' ', args)} failed ({result.ExitCode}): {result.StandardOutput}{result.StandardError}");
        return result.StandardOutput.TrimEnd('\n');
    }
}
