using System.Globalization;
using System.Text.RegularExpressions;
using Dso.Testing;

namespace Dso.Package.Tests;

/// <summary>
/// The .deb on the host it is made for: Debian 12 with systemd as PID 1 and its own Docker engine
/// (<see cref="SystemdHost"/>). What a production host relies on, in the order an operator meets
/// it: the agent starts as a notify service running dso-agent itself, its socket admits the dso
/// group and no one else, restarting or stopping it leaves running containers with their secrets,
/// a reboot restores the RAM directory before the engine restarts the containers, the journal holds
/// no secret, and the unit's hardening is measured.
/// </summary>
public sealed partial class SystemdHostTests(EngineFixture engine)
{
    internal const string Compose = """
        services:
          app:
            image: dso-host/busybox:1
            command: ["sleep", "100000"]
            restart: unless-stopped
            environment:
              DB_PASSWORD: dso://app/db
              DB_PASSWORD_FILE: dsofile://app/db?name=db
        """;

    [Fact]
    public async Task ThePackage_UnderSystemd_KeepsAProductionHostsPromises()
    {
        await engine.RequireAsync();
        var cancel = TestContext.Current.CancellationToken;
        var canary = "canary" + Guid.NewGuid().ToString("N");
        await using var host = await SystemdHost.StartAsync(cancel);

        // Install: the package's postinst enables and starts the agent under systemd.
        await EngineFixture.DockerOkAsync("cp", NativeArtifacts.DebianPackage, $"{host.Name}:/tmp/docker-dso.deb");
        await host.OkAsync("dpkg -i /tmp/docker-dso.deb", cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);
        Assert.Equal("notify", await host.OkAsync("systemctl show -p Type --value dso-agent", cancellationToken: cancel));
        var mainPid = await host.OkAsync("systemctl show -p MainPID --value dso-agent", cancellationToken: cancel);
        Assert.Equal("/usr/lib/dso/dso-agent", await host.OkAsync($"readlink /proc/{mainPid}/exe", cancellationToken: cancel));
        Assert.Equal("660 root dso", await host.OkAsync("stat -c '%a %U %G' /run/dso/dso.sock", cancellationToken: cancel));
        // The Swarm secret driver's socket, in the engine's plugin directory (made 0700 by the unit), root's alone.
        Assert.Equal("700 root root", await host.OkAsync("stat -c '%a %U %G' /run/docker/plugins", cancellationToken: cancel));
        Assert.Equal("600 root root socket", await host.OkAsync("stat -c '%a %U %G %F' /run/docker/plugins/dso.sock", cancellationToken: cancel));

        // A member of dso uses the agent without sudo; a user outside it cannot.
        await host.OkAsync("useradd -m -G dso alice && useradd -m bob", cancellationToken: cancel);
        var alice = await host.RunAsync("docker dso status", user: "alice", cancellationToken: cancel);
        var bob = await host.RunAsync("docker dso status", user: "bob", cancellationToken: cancel);
        Assert.True(alice.Succeeded, alice.StandardError);
        Assert.Contains("agent", alice.StandardOutput, StringComparison.Ordinal);
        Assert.False(bob.Succeeded);

        // A stack whose secret the agent keeps: env and file, in a container that restarts with the host.
        await host.OkAsync("mkdir -p /tmp/bb/bin /srv/app && cp /bin/busybox /tmp/bb/bin/ && for a in sh sleep cat; do ln -s busybox /tmp/bb/bin/$a; done && tar -C /tmp/bb -c . | docker import - dso-host/busybox:1", cancellationToken: cancel);
        await host.OkAsync("DSO_HOME=/var/lib/dso docker dso init", cancellationToken: cancel);
        await host.OkAsync("DSO_HOME=/var/lib/dso docker dso secret set app/db", input: canary, cancellationToken: cancel);
        await host.OkAsync("cat > /srv/app/compose.yaml", input: Compose, cancellationToken: cancel);
        await host.OkAsync("cd /srv/app && docker dso up -d", cancellationToken: cancel);
        var container = await host.OkAsync("docker ps -q --filter label=com.docker.compose.service=app", cancellationToken: cancel);
        await AssertDeliveredAsync(host, container, canary, "after up", cancel);

        // Restarting and stopping the agent leave the running container alone, with its secrets.
        await host.OkAsync("systemctl restart dso-agent", cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);
        await AssertDeliveredAsync(host, container, canary, "after systemctl restart dso-agent", cancel);
        await host.OkAsync("systemctl stop dso-agent", cancellationToken: cancel);
        await AssertDeliveredAsync(host, container, canary, "after systemctl stop dso-agent", cancel);
        await host.OkAsync("systemctl start dso-agent", cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);

        // A reboot: /run is empty again; the agent restores the secrets before the engine restarts the container.
        await host.RebootAsync(cancel);
        await WaitActiveAsync(host, cancel);
        var after = await WaitForContainerAsync(host, cancel);
        await AssertDeliveredAsync(host, after, canary, "after a reboot", cancel);

        // The journal of all this holds no value, in any form.
        var journal = await host.OkAsync("journalctl -u dso-agent --no-pager -o cat", cancellationToken: cancel);
        Assert.Contains("listening on /run/dso/dso.sock", journal, StringComparison.Ordinal);
        foreach (var form in CanaryScanner.Forms(canary).Select(f => System.Text.Encoding.ASCII.GetString(f)))
        {
            Assert.DoesNotContain(form, journal, StringComparison.Ordinal);
        }

        // The unit's hardening, as systemd measures it (0 = fully locked down, 10 = exposed).
        var security = await host.RunAsync("systemd-analyze security --no-pager dso-agent.service", cancellationToken: cancel);
        var exposure = Exposure().Match(security.StandardOutput);
        Assert.True(exposure.Success, security.StandardOutput + security.StandardError);
        var level = double.Parse(exposure.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(level <= 4.0, $"dso-agent.service exposure {level}:\n{security.StandardOutput}");
        Figures.Record("G10", "systemd-analyze security exposure of dso-agent.service on Debian 12 (0 safest, 10 exposed)", exposure.Groups[1].Value + " " + exposure.Groups[2].Value);
    }

    /// <summary>
    /// The original project's production path, typed as its documents show it: bootstrap agent mode
    /// with the provider taken from the environment, then the service commands, the journal, the
    /// event stream and the full doctor, each doing its work through systemd on a real host.
    /// </summary>
    [Fact]
    public async Task TheSeedsServiceCommands_RunTheAgentThroughSystemd()
    {
        await engine.RequireAsync();
        var cancel = TestContext.Current.CancellationToken;
        var canary = "canary" + Guid.NewGuid().ToString("N");
        await using var host = await SystemdHost.StartAsync(cancel);
        await EngineFixture.DockerOkAsync("cp", NativeArtifacts.DebianPackage, $"{host.Name}:/tmp/docker-dso.deb");
        await host.OkAsync("dpkg -i /tmp/docker-dso.deb && useradd -m -G dso alice", cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);

        // sudo docker dso system status: systemd's view, exit 0 while running.
        Assert.Contains("active (running)", await host.OkAsync("docker dso system status", cancellationToken: cancel), StringComparison.Ordinal);

        // sudo docker dso bootstrap agent --non-interactive: the provider from VAULT_ADDR, written once, the agent restarted to read it.
        var before = await MainPidAsync(host, cancel);
        var bootstrap = await host.OkAsync("VAULT_ADDR=https://vault.example.test:8200 docker dso bootstrap agent --non-interactive", cancellationToken: cancel);
        Assert.Contains("provider:  vault written to /etc/dso/dso.yaml (from VAULT_ADDR)", bootstrap, StringComparison.Ordinal);
        Assert.Contains("kept:      /lib/systemd/system/dso-agent.service", bootstrap, StringComparison.Ordinal);
        Assert.Contains("endpoint: \"https://vault.example.test:8200\"", await host.OkAsync("cat /etc/dso/dso.yaml", cancellationToken: cancel), StringComparison.Ordinal);
        Assert.Equal("600 root root", await host.OkAsync("stat -c '%a %U %G' /etc/dso/agent.env", cancellationToken: cancel));
        Assert.Equal("640 root dso", await host.OkAsync("stat -c '%a %U %G' /etc/dso/dso.yaml", cancellationToken: cancel));
        Assert.False((await host.RunAsync("test -e /etc/systemd/system/dso-agent.service", cancellationToken: cancel)).Succeeded, "bootstrap shadowed the package's unit");
        await WaitActiveAsync(host, cancel);
        var restarted = await MainPidAsync(host, cancel);
        Assert.NotEqual(before, restarted);
        Assert.Contains("vault", await host.OkAsync("docker dso status", user: "alice", cancellationToken: cancel), StringComparison.Ordinal);
        var again = await host.OkAsync("VAULT_ADDR=https://other.example.test docker dso bootstrap agent --non-interactive", cancellationToken: cancel);
        Assert.Contains("already names its providers", again, StringComparison.Ordinal);
        Assert.Equal(restarted, await MainPidAsync(host, cancel));

        // disable (autostart off, still running), disable --now (stopped, status exits 3), enable (both back), restart.
        await host.OkAsync("docker dso system disable", cancellationToken: cancel);
        Assert.Equal("disabled", (await host.RunAsync("systemctl is-enabled dso-agent", cancellationToken: cancel)).StandardOutput.Trim());
        Assert.Equal("active", (await host.RunAsync("systemctl is-active dso-agent", cancellationToken: cancel)).StandardOutput.Trim());
        await host.OkAsync("docker dso system disable --now", cancellationToken: cancel);
        Assert.Equal("inactive", (await host.RunAsync("systemctl is-active dso-agent", cancellationToken: cancel)).StandardOutput.Trim());
        Assert.Equal(3, (await host.RunAsync("docker dso system status", cancellationToken: cancel)).ExitCode);
        await host.OkAsync("docker dso system enable", cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);
        Assert.Equal("enabled", (await host.RunAsync("systemctl is-enabled dso-agent", cancellationToken: cancel)).StandardOutput.Trim());
        var enabled = await MainPidAsync(host, cancel);
        await host.OkAsync("docker dso system restart", cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);
        Assert.NotEqual(enabled, await MainPidAsync(host, cancel));

        // reload: the agent re-reads dso.yaml in place; a file it would refuse is refused in one line
        // (exit 1), and the agent keeps running on the last good one.
        var running = await MainPidAsync(host, cancel);
        Assert.Contains("reloaded /etc/dso/dso.yaml", await host.OkAsync("docker dso system reload", cancellationToken: cancel), StringComparison.Ordinal);
        await host.OkAsync("cp -p /etc/dso/dso.yaml /tmp/good.yaml && echo 'bogus_key: 1' >> /etc/dso/dso.yaml", cancellationToken: cancel);
        var refused = await host.RunAsync("docker dso system reload", cancellationToken: cancel);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("bogus_key", refused.StandardError, StringComparison.Ordinal);
        Assert.Single(refused.StandardError.TrimEnd('\n').Split('\n'));
        await host.OkAsync("cp -p /tmp/good.yaml /etc/dso/dso.yaml", cancellationToken: cancel);
        Assert.Equal(running, await MainPidAsync(host, cancel));
        Assert.Equal("active", (await host.RunAsync("systemctl is-active dso-agent", cancellationToken: cancel)).StandardOutput.Trim());

        // A group member refused what needs root, in systemd's words, in one line.
        var denied = await host.RunAsync("docker dso system restart", user: "alice", cancellationToken: cancel);
        Assert.Equal(1, denied.ExitCode);
        Assert.Single(denied.StandardError.TrimEnd('\n').Split('\n'));

        // The journal: the last entries, and errors only since an hour ago.
        var logs = await host.OkAsync("docker dso system logs -n 200", cancellationToken: cancel);
        Assert.Contains("listening on /run/dso/dso.sock", logs, StringComparison.Ordinal);
        var errors = await host.RunAsync("docker dso system logs -p err --since 1h", cancellationToken: cancel);
        Assert.True(errors.Succeeded, errors.StandardError);
        Assert.DoesNotContain("listening on", errors.StandardOutput, StringComparison.Ordinal);

        // watch --debug (socket, as a member) and logs --api (REST) see the same registration, each whole.
        await host.OkAsync("mkdir -p /tmp/bb/bin /srv/app && cp /bin/busybox /tmp/bb/bin/ && for a in sh sleep cat; do ln -s busybox /tmp/bb/bin/$a; done && tar -C /tmp/bb -c . | docker import - dso-host/busybox:1", cancellationToken: cancel);
        // The vault provider is now the default: references to the agent's local vault name it.
        await host.OkAsync("DSO_HOME=/var/lib/dso docker dso init && cat > /srv/app/compose.yaml", input: Compose.Replace("//app/", "//local:app/", StringComparison.Ordinal), cancellationToken: cancel);
        await host.OkAsync("DSO_HOME=/var/lib/dso docker dso secret set app/db", input: canary, cancellationToken: cancel);
        await host.OkAsync("(timeout 40 docker dso watch --debug > /tmp/watch.log 2>&1 &); (timeout 40 docker dso system logs --api --api-addr http://localhost:8471 > /tmp/api.log 2>&1 &)", user: "alice", cancellationToken: cancel);
        await Task.Delay(2000, cancel);
        await host.OkAsync("cd /srv/app && docker dso up -d", cancellationToken: cancel);
        string watch = string.Empty, api = string.Empty;
        for (var i = 0; i < 40 && !(watch.Contains("\"project\": \"app\"", StringComparison.Ordinal) && api.Contains("project.registered", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(500, cancel);
            watch = await host.OkAsync("cat /tmp/watch.log", cancellationToken: cancel);
            api = await host.OkAsync("cat /tmp/api.log", cancellationToken: cancel);
        }

        Assert.Contains("project.registered", watch, StringComparison.Ordinal);
        Assert.Contains("\"project\": \"app\"", watch, StringComparison.Ordinal);
        Assert.Contains("project.registered", api, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, watch + api, StringComparison.Ordinal);

        // doctor --level full: the unit, the static launcher and this project's references.
        var doctor = await host.RunAsync("cd /srv/app && DSO_HOME=/var/lib/dso docker dso doctor --level full", cancellationToken: cancel);
        Assert.Matches(@"service\.unit\s+pass\s+dso-agent\.service enabled and active", doctor.StandardOutput);
        Assert.Matches(@"launcher\.static\s+pass\s+/usr/lib/dso/dso-init is static", doctor.StandardOutput);
        Assert.Matches(@"project\.references\s+pass\s+project app: 2 reference\(s\) resolve", doctor.StandardOutput);
        Assert.DoesNotContain(canary, doctor.StandardOutput + doctor.StandardError, StringComparison.Ordinal);
    }

    /// <summary>
    /// The seed's install without a package: the executables from a system install of the checkout
    /// (scripts/install.sh --system lays them out the same way), then `sudo docker dso system install`.
    /// </summary>
    [Fact]
    public async Task SystemInstall_WithoutThePackage_CreatesTheGroup_GivesItTheConfig_AndStartsTheAgent()
    {
        await engine.RequireAsync();
        var cancel = TestContext.Current.CancellationToken;
        await using var host = await SystemdHost.StartAsync(cancel);
        await host.OkAsync("mkdir -p /usr/local/lib/dso /usr/local/lib/docker/cli-plugins", cancellationToken: cancel);
        foreach (var name in new[] { "docker-dso", "dso-agent", "dso-init" })
        {
            await EngineFixture.DockerOkAsync("cp", Path.Combine(NativeArtifacts.Directory, name), $"{host.Name}:/usr/local/lib/dso/{name}");
        }

        await host.OkAsync("chown -R root:root /usr/local/lib/dso && ln -s /usr/local/lib/dso/docker-dso /usr/local/lib/docker/cli-plugins/docker-dso", cancellationToken: cancel);
        Assert.False((await host.RunAsync("getent group dso", cancellationToken: cancel)).Succeeded, "the host already has a dso group");

        var installed = await host.OkAsync("docker dso system install", cancellationToken: cancel);

        Assert.Contains("created:   group dso", installed, StringComparison.Ordinal);
        await WaitActiveAsync(host, cancel);
        Assert.Equal("755 root dso", await host.OkAsync("stat -c '%a %U %G' /etc/dso", cancellationToken: cancel));
        Assert.Equal("640 root dso", await host.OkAsync("stat -c '%a %U %G' /etc/dso/dso.yaml", cancellationToken: cancel));
        Assert.Equal("660 root dso", await host.OkAsync("stat -c '%a %U %G' /run/dso/dso.sock", cancellationToken: cancel));
        await host.OkAsync("useradd -m -G dso alice && useradd -m bob", cancellationToken: cancel);
        Assert.True((await host.RunAsync("cat /etc/dso/dso.yaml", user: "alice", cancellationToken: cancel)).Succeeded, "a member of dso cannot read /etc/dso/dso.yaml");
        Assert.False((await host.RunAsync("cat /etc/dso/dso.yaml", user: "bob", cancellationToken: cancel)).Succeeded, "a user outside dso can read /etc/dso/dso.yaml");
        var status = await host.RunAsync("docker dso status", user: "alice", cancellationToken: cancel);
        Assert.True(status.Succeeded, status.StandardError);

        // Again: nothing to change, and the configuration keeps its owner.
        var again = await host.OkAsync("docker dso system install", cancellationToken: cancel);
        Assert.Contains("kept:      group dso", again, StringComparison.Ordinal);
        Assert.Contains("kept:      /etc/dso/dso.yaml (yours)", again, StringComparison.Ordinal);
        Assert.Equal("640 root dso", await host.OkAsync("stat -c '%a %U %G' /etc/dso/dso.yaml", cancellationToken: cancel));
    }

    /// <summary>
    /// `proxy.forwarding: kernel` on the production host: the package's drop-in gives the unit what
    /// nft and iptables need, the agent binds port 80 (below 1024) for a rolling service, and the
    /// kernel carries clients on the host's loopback and from another machine (this test, outside
    /// the host) — also after `systemctl restart docker` brings the container back; stopping the
    /// agent leaves no rule.
    /// </summary>
    [Fact]
    public async Task KernelForwarding_UnderSystemd_CarriesClients_AcrossADockerRestart_AndLeavesNoRule()
    {
        await engine.RequireAsync();
        var cancel = TestContext.Current.CancellationToken;
        await using var host = await SystemdHost.StartAsync(cancel);
        await EngineFixture.DockerOkAsync("cp", NativeArtifacts.DebianPackage, $"{host.Name}:/tmp/docker-dso.deb");
        await host.OkAsync("dpkg -i /tmp/docker-dso.deb", cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);
        // doctor names the missing drop-in before it is installed, and finds it after.
        await host.OkAsync("printf 'proxy:\\n  forwarding: kernel\\n' >> /etc/dso/dso.yaml", cancellationToken: cancel);
        var before = await ForwardingCheckAsync(host, cancel);
        Assert.Equal("fail", before.Verdict);
        Assert.Contains("CAP_NET_ADMIN", before.Detail, StringComparison.Ordinal);
        Assert.Contains("/usr/lib/dso/systemd/kernel-forwarding.conf", before.Fix, StringComparison.Ordinal);
        await host.OkAsync(
            "install -D -m 0644 /usr/lib/dso/systemd/kernel-forwarding.conf /etc/systemd/system/dso-agent.service.d/kernel-forwarding.conf"
            + " && systemctl daemon-reload && systemctl restart dso-agent",
            cancellationToken: cancel);
        await WaitActiveAsync(host, cancel);
        var after = await ForwardingCheckAsync(host, cancel);
        Assert.Equal("pass", after.Verdict);
        Assert.Contains("/etc/systemd/system/dso-agent.service.d/kernel-forwarding.conf", after.Detail, StringComparison.Ordinal);

        await host.OkAsync("mkdir -p /tmp/bb/bin /srv/web && cp /bin/busybox /tmp/bb/bin/ && for a in sh sleep cat mkdir httpd; do ln -s busybox /tmp/bb/bin/$a; done && tar -C /tmp/bb -c . | docker import - dso-host/busybox:1", cancellationToken: cancel);
        await host.OkAsync("DSO_HOME=/var/lib/dso docker dso init && DSO_HOME=/var/lib/dso docker dso secret set app/db", input: "kernel-" + Guid.NewGuid().ToString("N"), cancellationToken: cancel);
        await host.OkAsync("cat > /srv/web/compose.yaml", input: """
            services:
              web:
                image: dso-host/busybox:1
                command: ["sh", "-c", "mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 8080 -h /www"]
                restart: unless-stopped
                labels:
                  dso.strategy: rolling
                ports: ["80:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
            """, cancellationToken: cancel);
        await host.OkAsync("cd /srv/web && docker dso up -d", cancellationToken: cancel);
        var address = (await EngineFixture.DockerOkAsync("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", host.Name)).Trim();

        await AssertCarriedAsync(host, address, "after up", cancel);
        await host.OkAsync("systemctl restart docker", cancellationToken: cancel);
        await AssertCarriedAsync(host, address, "after systemctl restart docker", cancel);
        var journal = await host.OkAsync("journalctl -u dso-agent --no-pager -o cat", cancellationToken: cancel);
        Assert.DoesNotContain("kernel forwarding:", journal, StringComparison.Ordinal);

        await host.OkAsync("systemctl stop dso-agent", cancellationToken: cancel);
        Assert.False((await host.RunAsync("nft list table ip dso", cancellationToken: cancel)).Succeeded, "the agent's table outlived it");
        Assert.DoesNotContain("DSO-FORWARD", await host.OkAsync("iptables -S DOCKER-USER", cancellationToken: cancel), StringComparison.Ordinal);
    }

    /// <summary>`docker dso doctor --json`'s proxy.forwarding check on the host: verdict, detail, fix.</summary>
    private static async Task<(string Verdict, string Detail, string Fix)> ForwardingCheckAsync(SystemdHost host, CancellationToken cancel)
    {
        var run = await host.RunAsync("docker dso doctor --json --config /etc/dso/dso.yaml", cancellationToken: cancel);
        using var json = System.Text.Json.JsonDocument.Parse(run.StandardOutput);
        var check = json.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "proxy.forwarding");
        return (check.GetProperty("verdict").GetString()!, check.GetProperty("detail").GetString()!,
            check.TryGetProperty("fix", out var fix) && fix.ValueKind == System.Text.Json.JsonValueKind.String ? fix.GetString()! : string.Empty);
    }

    /// <summary>
    /// The service answers on port 80 on the host's loopback and from outside the host, and the
    /// agent's table carries the port (so the answers did not come through its listener).
    /// </summary>
    private static async Task AssertCarriedAsync(SystemdHost host, string address, string step, CancellationToken cancel)
    {
        var rule = string.Empty;
        for (var i = 0; i < 120 && !rule.Contains("tcp dport 80 dnat to", StringComparison.Ordinal); i++)
        {
            await Task.Delay(500, cancel);
            rule = (await host.RunAsync("nft list table ip dso", cancellationToken: cancel)).StandardOutput;
        }

        Assert.True(rule.Contains("tcp dport 80 dnat to", StringComparison.Ordinal), $"{step}: no rule for port 80\n{rule}\n{await JournalAsync(host, cancel)}");
        var container = await host.OkAsync("docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $(docker ps -q --filter label=com.docker.compose.service=web --filter status=running)", cancellationToken: cancel);
        Assert.Contains($"dnat to {container}:8080", rule, StringComparison.Ordinal);
        Assert.Equal("served", await host.OkAsync("curl -fsS --max-time 5 http://127.0.0.1/", cancellationToken: cancel));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal("served\n", await client.GetStringAsync($"http://{address}/", cancel));

        // The kernel carried them: the agent's listener forwarded none.
        var forwarded = await host.OkAsync("curl -fsS --max-time 5 http://127.0.0.1:8471/metrics | grep '^dso_proxy_connections_total' || true", cancellationToken: cancel);
        Assert.DoesNotMatch(@"\} [1-9]", forwarded);
    }

    private static Task<string> MainPidAsync(SystemdHost host, CancellationToken cancel) =>
        host.OkAsync("systemctl show -p MainPID --value dso-agent", cancellationToken: cancel);

    internal static async Task AssertDeliveredAsync(SystemdHost host, string container, string canary, string step, CancellationToken cancel)
    {
        var environment = await host.OkAsync($"docker exec {container} cat /proc/1/environ | tr '\\0' '\\n'", cancellationToken: cancel);
        Assert.True(environment.Contains($"DB_PASSWORD={canary}", StringComparison.Ordinal), $"{step}: the value is not in the application's environment\n{await JournalAsync(host, cancel)}");
        Assert.True(await host.OkAsync($"docker exec {container} cat /run/secrets/dso/db", cancellationToken: cancel) == canary, $"{step}: the file does not hold the value\n{await JournalAsync(host, cancel)}");
        Assert.DoesNotContain(canary, await host.OkAsync($"docker inspect {container}", cancellationToken: cancel), StringComparison.Ordinal);
    }

    private static async Task<string> JournalAsync(SystemdHost host, CancellationToken cancel) =>
        (await host.RunAsync("journalctl -u dso-agent -u docker --no-pager -o cat | tail -n 40", cancellationToken: cancel)).StandardOutput;

    private static async Task WaitActiveAsync(SystemdHost host, CancellationToken cancel)
    {
        for (var i = 0; i < 60; i++)
        {
            if ((await host.RunAsync("systemctl is-active dso-agent && test -S /run/dso/dso.sock", cancellationToken: cancel)).Succeeded)
            {
                return;
            }

            await Task.Delay(500, cancel);
        }

        Assert.Fail("dso-agent.service did not become active in 30 s: " + await host.OkAsync("systemctl status --no-pager dso-agent; journalctl -u dso-agent --no-pager | tail -n 30", cancellationToken: cancel));
    }

    private static async Task<string> WaitForContainerAsync(SystemdHost host, CancellationToken cancel)
    {
        for (var i = 0; i < 60; i++)
        {
            var id = await host.OkAsync("docker ps -q --filter label=com.docker.compose.service=app --filter status=running", cancellationToken: cancel);
            if (id.Length > 0)
            {
                return id;
            }

            await Task.Delay(500, cancel);
        }

        Assert.Fail("the app container did not run again after the reboot: " + await host.OkAsync("docker ps -a", cancellationToken: cancel));
        return string.Empty;
    }

    [GeneratedRegex(@"Overall exposure level for dso-agent\.service: ([0-9.]+) (\w+)")]
    private static partial Regex Exposure();
}
