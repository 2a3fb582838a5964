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
    private const string Compose = """
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

    private static async Task AssertDeliveredAsync(SystemdHost host, string container, string canary, string step, CancellationToken cancel)
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
