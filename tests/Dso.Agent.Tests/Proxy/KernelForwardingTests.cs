using System.Globalization;
using System.Net;
using Dso.Agent.Proxy;
using Dso.Agent.Tests.Rotation;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests.Proxy;

/// <summary>
/// `proxy.forwarding: kernel` (spec 6) against the real engine and the host's own nftables and
/// iptables: connections to a rolling service's host port are carried by the agent's NAT rules
/// (the listener forwards none of them), rotations under load fail no request, clients from another
/// network namespace (another machine) pass Docker's FORWARD filter, and `down` and the agent's stop
/// leave no table, no DOCKER-USER rule and no route_localnet behind. Runs on both engines (26 and
/// 20.10): each programs its own firewall chains, which these rules must live beside.
/// </summary>
public sealed class KernelForwardingTests(EngineFixture engine)
{
    private const string Kernel = "proxy:\n  forwarding: kernel\n";

    [Fact]
    public async Task TheRuleset_IsOneTransaction_ThatTheHostsNftAccepts()
    {
        await engine.RequireAsync();
        var routes = new List<KernelRoute>
        {
            new(IPAddress.Any, 18080, 8080, [IPAddress.Parse("172.30.0.2")]),
            new(IPAddress.Loopback, 18081, 80, [IPAddress.Parse("172.30.0.3"), IPAddress.Parse("172.30.0.4")]),
        };

        var ruleset = KernelForwarding.Render("dso", routes);
        Assert.StartsWith("table ip dso\ndelete table ip dso\ntable ip dso {", ruleset, StringComparison.Ordinal);
        Assert.Contains("fib daddr type local tcp dport 18080 dnat to 172.30.0.2 : 8080", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip daddr 127.0.0.1 tcp dport 18081 dnat to numgen inc mod 2 map { 0 : 172.30.0.3, 1 : 172.30.0.4 } : 80", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip daddr 127.0.0.0/8 iifname != \"lo\" counter drop", ruleset, StringComparison.Ordinal);
        Assert.Contains("ct status dnat meta l4proto tcp ct original proto-dst 18081 ip daddr { 172.30.0.3, 172.30.0.4 } tcp dport 80 fib saddr type local masquerade", ruleset, StringComparison.Ordinal);

        // A port bound to the loopback address is carried for the host's own clients only (output), never from outside (prerouting).
        var prerouting = ruleset[ruleset.IndexOf("chain prerouting", StringComparison.Ordinal)..ruleset.IndexOf("chain output", StringComparison.Ordinal)];
        Assert.Contains("dport 18080", prerouting, StringComparison.Ordinal);
        Assert.DoesNotContain("dport 18081", prerouting, StringComparison.Ordinal);

        // Checked, not applied (nft -c): the syntax of the nft this host has.
        var check = await ChildProcess.RunAsync("nft", ["-c", "-f", "-"], new ChildProcessOptions { StandardInput = System.Text.Encoding.UTF8.GetBytes(ruleset) }, TestContext.Current.CancellationToken);
        Assert.True(check.Succeeded, check.StandardError);

        var noLoopback = KernelForwarding.Render("dso", routes, loopback: false);
        Assert.Contains("ip daddr != 127.0.0.0/8 fib daddr type local tcp dport 18080", noLoopback, StringComparison.Ordinal);
        Assert.DoesNotContain("ip daddr 127.0.0.1 tcp dport 18081", noLoopback, StringComparison.Ordinal);
        Assert.Equal("table ip dso\ndelete table ip dso\n", KernelForwarding.Render("dso", []));
    }

    [Fact]
    public async Task RollingRotationsUnderLoad_AreCarriedByTheKernel_NoneFail_AndTheAgentsStopLeavesNothing()
    {
        await engine.RequireAsync();
        await using var stack = await UpAsync(Web("127.0.0.1:{PORT}:8080"), new() { ["app/db"] = "value-0" });
        var container = await stack.Project.ContainerAsync("web");
        var bridge = await WaitForRuleAsync(stack, await AddressAsync(container));
        Assert.Equal("1", await File.ReadAllTextAsync($"/proc/sys/net/ipv4/conf/{bridge}/route_localnet", TestContext.Current.CancellationToken).ContinueWith(t => t.Result.Trim(), TaskScheduler.Default));

        var listener = Series(stack);
        var before = await stack.MetricAsync(listener);
        using var load = new ClientLoad(stack.Port, "DB_PASSWORD=value-");
        load.Start();
        const int changes = 4;
        for (var i = 1; i <= changes; i++)
        {
            stack.Set("app/db", $"value-{i}");
            await RotationStack.WaitForAnswerAsync(stack.Port, $"DB_PASSWORD=value-{i}\n", 60);
            await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }

        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_draining_containers") == 0 && (await stack.Project.AllContainersAsync()).Length == 1, 60);
        var (requests, _, failures) = await load.StopAsync();

        Assert.True(failures.Count == 0, $"{failures.Count} failed of {requests} requests: {string.Join("; ", failures.Take(5))}");
        Assert.True(requests > 300, $"only {requests} requests were made");
        Assert.Equal(before, await stack.MetricAsync(listener));
        var now = await stack.Project.ContainerAsync("web");
        Assert.NotEqual(container, now);
        await WaitForRuleAsync(stack, await AddressAsync(now));
        Figures.Record("G6", "kernel forwarding: rolling rotations under load", string.Create(CultureInfo.InvariantCulture, $"{changes} rolling rotations, {requests} requests, {failures.Count} failed, 0 through the listener"));

        Assert.Equal(0, await stack.Agent.StopAsync());
        Assert.False((await Nft("list", "table", "ip", Names(stack).Table)).Succeeded, "the agent's table outlived it");
        Assert.Equal("0", (await File.ReadAllTextAsync($"/proc/sys/net/ipv4/conf/{bridge}/route_localnet", TestContext.Current.CancellationToken)).Trim());
    }

    [Fact]
    public async Task AnAgentThatDies_LeavesItsRulesCarryingClients_AndItsNextStartAdoptsThem()
    {
        await engine.RequireAsync();
        await using var stack = await UpAsync(Web("127.0.0.1:{PORT}:8080"), new() { ["app/db"] = "value-0" });
        var address = await AddressAsync(await stack.Project.ContainerAsync("web"));
        await WaitForRuleAsync(stack, address);

        Assert.Equal(128 + 9, await stack.Agent.KillAsync());

        // No agent, no listener: the kernel still carries the clients.
        Assert.Contains("DB_PASSWORD=value-0\n", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);

        await stack.Agent.StartAsync();
        await WaitForRuleAsync(stack, address);
        Assert.Contains("DB_PASSWORD=value-0\n", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);

        // And it rotates as before, the rules following the new container.
        stack.Set("app/db", "value-1");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=value-1\n", 60);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await stack.Project.AllContainersAsync()).Length == 1, 60);
        var bridge = await WaitForRuleAsync(stack, await AddressAsync(await stack.Project.ContainerAsync("web")));

        // The agent that died had switched route_localnet on; the one that took over switches it off when it stops.
        Assert.Equal(0, await stack.Agent.StopAsync());
        Assert.Equal("0", (await File.ReadAllTextAsync($"/proc/sys/net/ipv4/conf/{bridge}/route_localnet", TestContext.Current.CancellationToken)).Trim());
        Assert.False((await Nft("list", "table", "ip", Names(stack).Table)).Succeeded, "the agent's table outlived it");
    }

    [Fact]
    public async Task ClientsOnAnotherMachine_AreCarriedPastDockersForwardFilter_EachPortToItsOwnService_AndDownRemovesEveryRule()
    {
        await engine.RequireAsync();
        await using var stack = await UpAsync(
            Web("{PORT}:8080") + """
              api:
                image: IMAGE
                command: ["serve", "8080", "API_KEY"]
                labels:
                  dso.strategy: rolling
                ports: ["127.0.0.1:{PORT2}:8080"]
                environment:
                  API_KEY: dso://app/api
            """,
            new() { ["app/db"] = "value-0", ["app/api"] = "key-0" });
        await RotationStack.WaitForAnswerAsync(stack.Port2, "API_KEY=key-0\n");
        await WaitForRuleAsync(stack, await AddressAsync(await stack.Project.ContainerAsync("web")));

        await using var remote = await RemoteMachine.CreateAsync();
        var listener = Series(stack);
        var before = await stack.MetricAsync(listener);
        var answers = await remote.GetAsync(stack.Port, 20);

        // Each port reaches its own service only; the one bound to 127.0.0.1 is the host's alone.
        Assert.Equal(20, answers.Count);
        Assert.All(answers, a => Assert.Contains("DB_PASSWORD=value-0", a, StringComparison.Ordinal));
        Assert.All(answers, a => Assert.DoesNotContain("API_KEY", a, StringComparison.Ordinal));
        Assert.Contains("API_KEY=key-0\n", await RotationStack.QueryAsync(stack.Port2), StringComparison.Ordinal);
        Assert.Equal(0, await remote.ConnectCountAsync(remote.HostAddress, stack.Port2, 3));

        // Packets for 127.0.0.0/8 sent to the host from outside (a neighbour can send them) reach neither port: the table drops them.
        foreach (var loopback in new[] { "127.0.0.1", "127.3.2.1" })
        {
            Assert.Equal(0, await remote.ConnectCountAsync(loopback, stack.Port2, 3, forgeLoopback: true));
            Assert.Equal(0, await remote.ConnectCountAsync(loopback, stack.Port, 3));
        }

        var guard = (await Nft("list", "chain", "ip", Names(stack).Table, "guard")).StandardOutput;
        Assert.Matches(@"counter packets [1-9]", guard);
        Assert.Equal(before, await stack.MetricAsync(listener));
        Assert.Contains($"-j {Names(stack).Chain}", (await Iptables("-S", "DOCKER-USER")).StandardOutput, StringComparison.Ordinal);

        await stack.Project.DsoOkAsync("down");
        await AgentLifecycleTests.WaitUntilAsync(async () => !(await Nft("list", "table", "ip", Names(stack).Table)).Succeeded, 20);
        Assert.DoesNotContain(Names(stack).Chain, (await Iptables("-S", "DOCKER-USER")).StandardOutput, StringComparison.Ordinal);
        Assert.False((await Iptables("-S", Names(stack).Chain)).Succeeded, "the agent's iptables chain outlived the project");
    }

    /// <summary>The compose text of a rolling `web` service serving DB_PASSWORD on <paramref name="ports"/> (IMAGE stands for the test image).</summary>
    private static string Web(string ports) => $$"""
        services:
          web:
            image: IMAGE
            command: ["serve", "8080", "DB_PASSWORD"]
            labels:
              dso.strategy: rolling
            ports: ["{{ports}}"]
            environment:
              DB_PASSWORD: dso://app/db

        """;

    /// <summary>The stack under an agent with kernel forwarding, once `web` answers with its first value.</summary>
    private static async Task<RotationStack> UpAsync(string compose, Dictionary<string, string> secrets)
    {
        var stack = await RotationStack.UpAsync(compose.Replace("IMAGE", TestImages.App, StringComparison.Ordinal), secrets, extraYaml: Kernel);
        try
        {
            await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=value-0\n");
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>The names of this agent's rules (agents of other tests run beside it, each with its own).</summary>
    private static (string Table, string Chain) Names(RotationStack stack) => KernelForwarding.NamesFor(stack.Agent.StateDirectory);

    private static string Series(RotationStack stack) =>
        "dso_proxy_connections_total{project=\"" + stack.Project.Name + "\",service=\"web\",port=\"" + stack.Port.ToString(CultureInfo.InvariantCulture) + "\"}";

    private static async Task<string> AddressAsync(string container) =>
        await RotationStack.InspectAsync(container, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");

    /// <summary>Waits until the agent's table sends the port to <paramref name="address"/>; returns the bridge that address is on.</summary>
    private static async Task<string> WaitForRuleAsync(RotationStack stack, string address)
    {
        var rule = $"tcp dport {stack.Port} dnat to {address}:8080";
        string listed = string.Empty;
        for (var i = 0; i < 100; i++)
        {
            listed = (await Nft("list", "table", "ip", Names(stack).Table)).StandardOutput;
            if (listed.Contains(rule, StringComparison.Ordinal))
            {
                return KernelForwarding.BridgeOf(IPAddress.Parse(address), KernelForwarding.Bridges()) ?? throw new InvalidOperationException($"no route to {address}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"the agent's table has no '{rule}':\n{listed}");
        return string.Empty;
    }

    private static Task<ProcessResult> Nft(params string[] args) => ChildProcess.RunAsync("nft", args, cancellationToken: TestContext.Current.CancellationToken);

    private static Task<ProcessResult> Iptables(params string[] args) => ChildProcess.RunAsync("iptables", ["-w", .. args], cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>
    /// Another machine on the host's network: a network namespace joined to this one by a veth pair,
    /// so its packets arrive on an interface and cross the FORWARD path as a remote client's do.
    /// </summary>
    private sealed class RemoteMachine : IAsyncDisposable
    {
        private readonly string _name;
        private readonly int _net;
        private bool _forged;

        private RemoteMachine(string name, int net)
        {
            _name = name;
            _net = net;
        }

        public string HostAddress => $"10.213.{_net}.1";

        public static async Task<RemoteMachine> CreateAsync()
        {
            var net = Random.Shared.Next(1, 250);
            var name = $"dso-remote-{net}";
            var machine = new RemoteMachine(name, net);
            var here = $"dsor{net}a";
            await Ip("netns", "add", name);
            await Ip("link", "add", here, "type", "veth", "peer", "name", "eth0", "netns", name);
            await Ip("addr", "add", $"10.213.{net}.1/24", "dev", here);
            await Ip("link", "set", here, "up");
            await Ip("-n", name, "addr", "add", $"10.213.{net}.2/24", "dev", "eth0");
            await Ip("-n", name, "link", "set", "eth0", "up");

            // Its loopback stays down, so a test may route 127.0.0.0/8 to the host as a hostile neighbour would.
            return machine;
        }

        /// <summary>
        /// Tries <paramref name="count"/> connections from the other machine (2 s each); returns how many
        /// were accepted. <paramref name="forgeLoopback"/> first routes 127.0.0.0/8 to this host, as a
        /// neighbour on its network can.
        /// </summary>
        public async Task<int> ConnectCountAsync(string host, int port, int count, bool forgeLoopback = false)
        {
            if (forgeLoopback && !_forged)
            {
                _forged = true;
                var sysctl = await ChildProcess.RunAsync("nsenter", [$"--net=/var/run/netns/{_name}", "sysctl", "-w", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1"]);
                Assert.True(sysctl.Succeeded, sysctl.StandardError);
                await Ip("-n", _name, "route", "add", "127.0.0.0/8", "via", HostAddress, "dev", "eth0");
            }

            const string script = """
                import socket, sys
                host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
                accepted = 0
                for _ in range(count):
                    try:
                        socket.create_connection((host, port), timeout=2).close()
                        accepted += 1
                    except OSError:
                        pass
                print(accepted)
                """;
            var result = await ChildProcess.RunAsync("nsenter", [$"--net=/var/run/netns/{_name}", "python3", "-c", script, host, port.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture)], new ChildProcessOptions { Timeout = TimeSpan.FromMinutes(1) });
            Assert.True(result.Succeeded, $"the remote client failed: {result.StandardError}");
            return int.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
        }

        /// <summary>Makes <paramref name="count"/> requests from the other machine, one connection each; returns the answers.</summary>
        public async Task<IReadOnlyList<string>> GetAsync(int port, int count)
        {
            const string script = """
                import socket, sys
                host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
                for _ in range(count):
                    with socket.create_connection((host, port), timeout=5) as s:
                        s.sendall(b"ONCE\n")
                        data = b""
                        while chunk := s.recv(65536):
                            data += chunk
                    print(data.decode().replace("\n", "|"))
                """;
            var result = await ChildProcess.RunAsync("nsenter", [$"--net=/var/run/netns/{_name}", "python3", "-c", script, HostAddress, port.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture)], new ChildProcessOptions { Timeout = TimeSpan.FromMinutes(1) });
            Assert.True(result.Succeeded, $"the remote client failed: {result.StandardError}");
            return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        public async ValueTask DisposeAsync() => await ChildProcess.RunAsync("ip", ["netns", "del", _name]);

        private static async Task Ip(params string[] args)
        {
            var result = await ChildProcess.RunAsync("ip", args);
            Assert.True(result.Succeeded, $"ip {string.Join(' ', args)}: {result.StandardError}");
        }
    }
}
