using Dso.Testing;

namespace Dso.Package.Tests;

/// <summary>
/// The release (scripts/build-release.sh) on a Debian host that has Docker and nothing of DSO's
/// build: no .NET, no checkout. It is served over HTTP on the host's loopback, as a release page
/// would serve it, and installed with the seed's one-liner (which reports its progress on stderr).
/// </summary>
public sealed class ReleaseInstallTests(EngineFixture engine)
{
    [Fact]
    public async Task TheSeedsOneLiner_InstallsTheRelease_OnAHostWithoutDotnet_AndTheQuickstartRunsFromIt()
    {
        await engine.RequireAsync();
        var cancel = TestContext.Current.CancellationToken;
        var canary = "canary" + Guid.NewGuid().ToString("N");
        await using var host = await SystemdHost.StartAsync(cancel);
        Assert.False((await host.RunAsync("command -v dotnet", cancellationToken: cancel)).Succeeded, "the host has .NET");
        await EngineFixture.DockerOkAsync("cp", NativeArtifacts.Release, $"{host.Name}:/srv/release");
        await host.OkAsync("useradd -m -G docker alice && mkdir /srv/bad && cp /srv/release/* /srv/bad/ && echo tampered >> /srv/bad/docker-dso-linux-amd64.tar.gz", cancellationToken: cancel);
        await EngineFixture.DockerOkAsync("cp", Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "install.sh"), $"{host.Name}:/tmp/repository-install.sh");
        await host.OkAsync("useradd -m -G docker bob && mkdir -p /srv/raw/main/scripts && cp /tmp/repository-install.sh /srv/raw/main/scripts/install.sh && cp /srv/release/SHA256SUMS /srv/raw/", cancellationToken: cancel);
        await ServeAsync(host, "/srv/release", 8000, cancel);
        await ServeAsync(host, "/srv/bad", 8001, cancel);
        await ServeAsync(host, "/srv/raw", 8002, cancel);

        // curl -fsSL …/install.sh | bash: a user install, then the README quick start as that user.
        var install = await host.OkAsync("curl -fsSL http://127.0.0.1:8000/install.sh | DSO_RELEASE_URL=http://127.0.0.1:8000 bash 2>&1", user: "alice", cancellationToken: cancel);
        Assert.Contains("linked: /home/alice/.docker/cli-plugins/docker-dso -> /home/alice/.local/lib/dso/docker-dso", install, StringComparison.Ordinal);
        Assert.Contains("docker dso is ready: DSO", install, StringComparison.Ordinal);
        await host.OkAsync("mkdir -p /tmp/bb/bin && cp /bin/busybox /tmp/bb/bin/ && for a in sh sleep cat; do ln -s busybox /tmp/bb/bin/$a; done && tar -C /tmp/bb -c . | docker import - dso-host/busybox:1", cancellationToken: cancel);
        await host.OkAsync("docker dso setup --mode local --non-interactive && docker dso init", user: "alice", cancellationToken: cancel);
        await host.OkAsync("docker dso secret set app/db", user: "alice", input: canary, cancellationToken: cancel);
        await host.OkAsync("mkdir -p ~/app && cat > ~/app/compose.yaml", user: "alice", input: SystemdHostTests.Compose, cancellationToken: cancel);
        await host.OkAsync("cd ~/app && docker dso up -d", user: "alice", cancellationToken: cancel);
        var container = await host.OkAsync("docker ps -q --filter label=com.docker.compose.service=app", cancellationToken: cancel);
        await SystemdHostTests.AssertDeliveredAsync(host, container, canary, "after the one-liner's install", cancel);
        await host.OkAsync("docker dso doctor && docker dso status", user: "alice", cancellationToken: cancel);
        Assert.StartsWith(".TH", await host.OkAsync("grep -m1 '^\\.TH' /home/alice/.local/share/man/man1/docker-dso.1", cancellationToken: cancel), StringComparison.Ordinal);

        // The README's exact form pipes the repository's scripts/install.sh: with no checkout around
        // it, it runs the release's installer (checked against SHA256SUMS).
        var fromRepository = await host.OkAsync("curl -fsSL http://127.0.0.1:8002/main/scripts/install.sh | DSO_RELEASE_URL=http://127.0.0.1:8000 bash 2>&1", user: "bob", cancellationToken: cancel);
        Assert.Contains("linked: /home/bob/.docker/cli-plugins/docker-dso -> /home/bob/.local/lib/dso/docker-dso", fromRepository, StringComparison.Ordinal);
        Assert.StartsWith("DSO ", await host.OkAsync("docker dso version", user: "bob", cancellationToken: cancel), StringComparison.Ordinal);

        // … | sudo bash: the system install, files root's, and the same archive again changes nothing.
        var system = await host.OkAsync("curl -fsSL http://127.0.0.1:8000/install.sh | DSO_RELEASE_URL=http://127.0.0.1:8000 bash 2>&1", cancellationToken: cancel);
        Assert.Contains("installed: /usr/local/lib/dso/docker-dso", system, StringComparison.Ordinal);
        Assert.Contains("linked: /usr/local/lib/docker/cli-plugins/docker-dso -> /usr/local/lib/dso/docker-dso", system, StringComparison.Ordinal);
        Assert.Equal("755 root root", await host.OkAsync("stat -c '%a %U %G' /usr/local/lib/dso/dso-agent", cancellationToken: cancel));
        var again = await host.OkAsync("curl -fsSL http://127.0.0.1:8000/install.sh | DSO_RELEASE_URL=http://127.0.0.1:8000 bash 2>&1", cancellationToken: cancel);
        Assert.Contains("unchanged: /usr/local/lib/dso/docker-dso", again, StringComparison.Ordinal);
        Assert.DoesNotContain("installed:", again, StringComparison.Ordinal);

        // An archive that does not match SHA256SUMS is refused, in one line, and nothing is installed.
        var refused = await host.RunAsync("curl -fsSL http://127.0.0.1:8001/install.sh | DSO_RELEASE_URL=http://127.0.0.1:8001 HOME=/tmp/elsewhere bash", cancellationToken: cancel);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("does not match its checksum in SHA256SUMS: not installed", refused.StandardError, StringComparison.Ordinal);
        Assert.Single(refused.StandardError.TrimEnd('\n').Split('\n'), line => !line.StartsWith("==> ", StringComparison.Ordinal));
    }

    /// <summary>Serves <paramref name="directory"/> on the host's loopback (python3's http.server) and waits until it answers.</summary>
    private static async Task ServeAsync(SystemdHost host, string directory, int port, CancellationToken cancel)
    {
        await host.OkAsync($"cd {directory} && (nohup python3 -m http.server {port} --bind 127.0.0.1 >/tmp/http-{port}.log 2>&1 &)", cancellationToken: cancel);
        await host.OkAsync($"for i in $(seq 100); do curl -fs http://127.0.0.1:{port}/SHA256SUMS >/dev/null && exit 0; sleep 0.1; done; exit 1", cancellationToken: cancel);
    }
}
