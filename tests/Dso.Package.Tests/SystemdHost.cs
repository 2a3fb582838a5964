using Dso.Processes;
using Dso.Testing;

namespace Dso.Package.Tests;

/// <summary>
/// A Debian 12 host in a privileged container of the test engine: systemd as PID 1 and a Docker
/// engine of its own, a service systemd starts (scripts/build-systemd-host.sh made its root file
/// system). Its engine keeps its data on a volume, so a restart of the container is a reboot: /run
/// is empty again, the engine's containers are not.
/// </summary>
internal sealed class SystemdHost : IAsyncDisposable
{
    private static readonly string RootFs = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "systemd-host", "rootfs.tar");

    private SystemdHost(string name, string volume)
    {
        Name = name;
        Volume = volume;
    }

    public string Name { get; }

    public string Volume { get; }

    /// <summary>Imports the root file system (once per engine), starts the host and waits until systemd and its engine run.</summary>
    public static async Task<SystemdHost> StartAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(RootFs))
        {
            var message = $"{RootFs} is missing: run scripts/build-systemd-host.sh (scripts/test.sh does)";
            Assert.SkipWhen(!TestEnvironment.IsCi, message);
            Assert.Fail(message);
        }

        var image = $"dso-test/systemd-host:{new FileInfo(RootFs).Length:x}-{File.GetLastWriteTimeUtc(RootFs).Ticks:x}";
        if (!(await EngineFixture.DockerAsync(["image", "inspect", image])).Succeeded)
        {
            await EngineFixture.DockerOkAsync("import", "--change", "LABEL dso.test=true", "--change", "CMD [\"/lib/systemd/systemd\"]", RootFs, image);
        }

        var id = Guid.NewGuid().ToString("N")[..8];
        var host = new SystemdHost($"dsot-host-{id}", $"dsot-host-docker-{id}");
        await EngineFixture.DockerOkAsync(
            "run", "-d", "--name", host.Name, "--hostname", "dso-host", "--label", "dso.test=true", "--label", $"dso.test.run={TestEnvironment.RunId}",
            "--privileged", "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
            "-v", $"{host.Volume}:/var/lib/docker", image, "/lib/systemd/systemd");
        await host.WaitForBootAsync(cancellationToken);
        return host;
    }

    /// <summary>Runs a command on the host as root (or as <paramref name="user"/>), with <paramref name="input"/> on its stdin.</summary>
    public Task<ProcessResult> RunAsync(string command, string? user = null, string? input = null, CancellationToken cancellationToken = default) =>
        ChildProcess.RunAsync(
            "docker",
            ["exec", "-i", .. user is null ? Array.Empty<string>() : ["-u", user], "-w", "/", Name, "/bin/sh", "-c", command],
            new ChildProcessOptions { StandardInput = input is null ? null : System.Text.Encoding.UTF8.GetBytes(input), Timeout = TimeSpan.FromMinutes(3) },
            cancellationToken);

    public async Task<string> OkAsync(string command, string? user = null, string? input = null, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(command, user, input, cancellationToken);
        Assert.True(result.Succeeded, $"on the host: {command}\n{result.StandardOutput}{result.StandardError}");
        return result.StandardOutput.Trim();
    }

    /// <summary>Restarts the container: systemd boots again with an empty /run; the engine's data stays.</summary>
    public async Task RebootAsync(CancellationToken cancellationToken)
    {
        await EngineFixture.DockerOkAsync("restart", "-t", "20", Name);
        await WaitForBootAsync(cancellationToken);
    }

    /// <summary>Waits (at most 90 s) until systemd has booted and the host's engine answers.</summary>
    public async Task WaitForBootAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            var state = await RunAsync("systemctl is-system-running; docker info --format '{{.ServerVersion}}'", cancellationToken: cancellationToken);
            last = state.StandardOutput + state.StandardError;
            var lines = state.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length >= 2 && lines[0] is "running" or "degraded" && char.IsAsciiDigit(lines[1][0]))
            {
                return;
            }

            await Task.Delay(1000, cancellationToken);
        }

        var units = await RunAsync("systemctl --failed --no-pager; journalctl -b --no-pager | tail -n 40", cancellationToken: cancellationToken);
        Assert.Fail($"the systemd host did not boot in 90 s: {last}\n{units.StandardOutput}");
    }

    public async ValueTask DisposeAsync()
    {
        await EngineFixture.DockerAsync(["rm", "-f", "-v", Name]);
        await EngineFixture.DockerAsync(["volume", "rm", "-f", Volume]);
    }
}
