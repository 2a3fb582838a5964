using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dso.Agent.Hosting;
using Dso.Native;
using Dso.Processes;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Proxy;

/// <summary>One host port carried by the kernel: where clients connect, and the containers new connections go to.</summary>
internal sealed record KernelRoute(IPAddress HostIp, int HostPort, int ContainerPort, IReadOnlyList<IPAddress> Backends);

/// <summary>
/// `proxy.forwarding: kernel` (spec 6): the host ports the agent owns are carried to their service's
/// containers by NAT rules in an nftables table of the agent's own, so the data path stays in the
/// kernel. The whole table is replaced in one nftables transaction whenever a port or a service's
/// set of containers changes: a swap's switch is one atomic step, and connections already open keep
/// their container (conntrack decided their NAT on their first packet), which is what lets old
/// containers drain.
/// <list type="bullet">
/// <item>Ports bound to a loopback address get no prerouting rule (only the host's own clients reach
/// them); the table always drops packets for 127.0.0.0/8 that arrive on any interface but `lo`.</item>
/// <item>Clients on the host's loopback need `route_localnet` on the bridges the containers are on
/// (as Docker's own kernel path sets it); it is switched on only once the table (and its guard) is in
/// force, recorded in the state directory, and switched back off when no rule needs it — also by the
/// next agent after a crash. Their connections are masqueraded so the container can answer.</item>
/// <item>Clients from other machines pass Docker's FORWARD filter through one jump at the end of
/// `DOCKER-USER` (the chain Docker keeps for its users; rules an operator put there come first) to a
/// chain that accepts exactly the connections NAT sent from an owned port to one of its containers.</item>
/// </list>
/// The agent's listener stays bound for what NAT leaves to it (IPv6, a service with no container, and
/// every client when the kernel's tools refuse: then the table is removed). Everything here runs the
/// host's own `nft` and `iptables`.
/// </summary>
internal sealed partial class KernelForwarding(AgentOptions options, ILogger<KernelForwarding> log) : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private readonly Lock _gate = new();
    private readonly HashSet<string> _localnet = new(StringComparer.Ordinal);
    private readonly string _localnetFile = Path.Combine(options.StateDirectory, "route-localnet");
    private IReadOnlyList<KernelRoute> _routes = [];
    private IReadOnlySet<string> _bridges = new HashSet<string>();
    private string? _applied;
    private string? _allowed;
    private bool _tablePresent;
    private bool _chainPresent;
    private bool _started;
    private bool _disposed;
    private bool _warnedNoDockerUser;

    /// <summary>The agent's nftables table (family ip).</summary>
    public string Table { get; } = NamesFor(options.StateDirectory).Table;

    /// <summary>The iptables chain, jumped to from DOCKER-USER, that lets forwarded connections to owned ports in.</summary>
    public string ForwardChain { get; } = NamesFor(options.StateDirectory).Chain;

    /// <summary>
    /// The names an agent's rules go by: `dso` and `DSO-FORWARD` for the agent of the default state
    /// directory; another agent on the same host (another state directory) gets names of its own,
    /// so neither replaces the other's rules, and a restarted agent finds its own again.
    /// </summary>
    public static (string Table, string Chain) NamesFor(string stateDirectory)
    {
        if (Path.TrimEndingDirectorySeparator(stateDirectory) == new Dso.Configuration.AgentConfig().StateDirectory)
        {
            return ("dso", "DSO-FORWARD");
        }

        var tag = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(stateDirectory))))[..8];
        return ($"dso_{tag}", $"DSO-FORWARD-{tag}");
    }

    /// <summary>
    /// Makes the rules exactly <paramref name="routes"/> (no route: no table, no chain). When the
    /// kernel's tools refuse (logged) the table is removed, so the listeners carry every client.
    /// </summary>
    public void Apply(IReadOnlyList<KernelRoute> routes)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            StartLocked();
            var previous = _routes;
            _routes = routes;
            if (routes.Count == 0)
            {
                ClearLocked();
                return;
            }

            var carried = routes.Where(r => r.Backends.Count > 0).OrderBy(r => r.HostPort).ThenBy(r => r.HostIp.ToString(), StringComparer.Ordinal).ToList();
            var loopbackBackends = carried.Where(CoversLoopback).SelectMany(r => r.Backends).ToList();
            var bridges = loopbackBackends.Select(b => BridgeOf(b, _bridges)).ToList();
            if (bridges.Contains(null))
            {
                // A network made since the last look: ask the kernel again (not on every change).
                _bridges = Bridges();
                bridges = [.. loopbackBackends.Select(b => BridgeOf(b, _bridges))];
            }

            var loopback = bridges.All(b => b is not null);
            var needed = loopback ? bridges.OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList() : [];

            // A switch never meets a filter that does not know its new containers yet: first both sets, then the new one.
            AllowForwarded([.. AllowedOf(previous), .. AllowedOf(carried)]);
            if (!ApplyRuleset(Render(Table, carried, loopback)))
            {
                return;
            }

            var failed = needed.Where(b => !EnableRouteLocalnet(b)).ToList();
            if (failed.Count > 0 && !ApplyRuleset(Render(Table, carried, loopback: false)))
            {
                return;
            }

            RestoreLocalnet(failed.Count > 0 ? [] : needed);
            AllowForwarded(AllowedOf(carried));
        }
    }

    /// <summary>
    /// Checks that the rules are still in force (a firewall reload or `nft flush ruleset` removes them)
    /// and puts them back if not. The agent's reconciliation calls it every 15 s.
    /// </summary>
    public void Verify()
    {
        IReadOnlyList<KernelRoute> routes;
        lock (_gate)
        {
            if (_disposed || _applied is null || _routes.Count == 0)
            {
                return;
            }

            var tableGone = !Run("nft", ["list", "table", "ip", Table], null, out _);
            var jumpGone = _allowed is not null && !Run("iptables", ["-w", "-C", "DOCKER-USER", "-j", ForwardChain], null, out _);
            if (!tableGone && !jumpGone)
            {
                return;
            }

            LogRulesRestored(Table);
            _applied = tableGone ? null : _applied;
            _allowed = jumpGone ? null : _allowed;
            routes = _routes;
        }

        Apply(routes);
    }

    /// <summary>
    /// The agent runs with `proxy.forwarding: userland`: rules a previous agent left (it crashed in
    /// kernel mode) would keep taking the ports from the listeners, so they go.
    /// </summary>
    public void ClearLeftovers()
    {
        lock (_gate)
        {
            StartLocked();
            ClearLocked();
        }
    }

    /// <summary>Removes the table and the DOCKER-USER rule (agent stop; nothing is left behind). Later changes are ignored.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                ClearLocked();
                _disposed = true;
            }
        }
    }

    /// <summary>
    /// The ruleset text: declare, delete and rebuild the table in one transaction (or only delete it).
    /// Without <paramref name="loopback"/> (route_localnet could not be set) the host's loopback
    /// clients are left to the listener.
    /// </summary>
    internal static string Render(string table, IReadOnlyList<KernelRoute> routes, bool loopback = true)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"table ip {table}\ndelete table ip {table}\n");
        if (routes.Count == 0)
        {
            return text.ToString();
        }

        var incoming = new StringBuilder();
        var local = new StringBuilder();
        var masquerade = new StringBuilder();
        foreach (var route in routes)
        {
            var any = route.HostIp.Equals(IPAddress.Any) || route.HostIp.Equals(IPAddress.IPv6Any);
            var destination = any ? "fib daddr type local" : $"ip daddr {route.HostIp}";
            var to = route.Backends.Count == 1
                ? route.Backends[0].ToString()
                : $"numgen inc mod {route.Backends.Count} map {{ {string.Join(", ", route.Backends.Select((b, i) => $"{i} : {b}"))} }}";
            var rule = $"{destination} tcp dport {route.HostPort} dnat to {to} : {route.ContainerPort}";

            // A port bound to a loopback address is the host's own: nothing arriving from outside may reach it.
            if (!IPAddress.IsLoopback(route.HostIp))
            {
                incoming.Append(CultureInfo.InvariantCulture, $"    {rule}\n");
            }

            if (loopback || !IPAddress.IsLoopback(route.HostIp))
            {
                local.Append(CultureInfo.InvariantCulture, $"    {(loopback ? string.Empty : "ip daddr != 127.0.0.0/8 ")}{rule}\n");
            }

            var backends = string.Join(", ", route.Backends);
            masquerade.Append(CultureInfo.InvariantCulture, $"    ct status dnat meta l4proto tcp ct original proto-dst {route.HostPort} ip daddr {{ {backends} }} tcp dport {route.ContainerPort} fib saddr type local masquerade\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"table ip {table} {{\n");
        text.Append("  chain guard {\n    type filter hook prerouting priority raw; policy accept;\n");
        text.Append("    ip daddr 127.0.0.0/8 iifname != \"lo\" counter drop\n  }\n");
        text.Append("  chain prerouting {\n    type nat hook prerouting priority dstnat - 1; policy accept;\n").Append(incoming).Append("  }\n");
        text.Append("  chain output {\n    type nat hook output priority -101; policy accept;\n").Append(local).Append("  }\n");
        text.Append("  chain postrouting {\n    type nat hook postrouting priority srcnat - 1; policy accept;\n").Append(masquerade).Append("  }\n");
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>The host's bridge interfaces (`ip -o link show type bridge`).</summary>
    internal static IReadOnlySet<string> Bridges()
    {
        if (!Run("ip", ["-o", "link", "show", "type", "bridge"], null, out _, out var listing))
        {
            return new HashSet<string>();
        }

        // "5: br-0123456789ab: <BROADCAST,…> …"
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 3))
            .Where(f => f.Length == 3)
            .Select(f => f[1].Trim().Split('@')[0])
            .Where(IsInterfaceName)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The bridge the kernel reaches <paramref name="address"/> through: the longest directly
    /// connected prefix in /proc/net/route (never a gateway or default route) on an interface that
    /// is one of <paramref name="bridges"/>. Null for any other network (macvlan, ipvlan, an uplink).
    /// </summary>
    internal static string? BridgeOf(IPAddress address, IReadOnlySet<string> bridges)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }

        const int gatewayFlag = 0x2;
        var target = BitConverter.ToUInt32(address.GetAddressBytes());
        string? best = null;
        var bestWidth = 0;
        foreach (var line in File.ReadLines("/proc/net/route").Skip(1))
        {
            var fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length < 8
                || !uint.TryParse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var destination)
                || !int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags)
                || !uint.TryParse(fields[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
            {
                continue;
            }

            var width = (int)uint.PopCount(mask);
            if (width > bestWidth && (flags & gatewayFlag) == 0 && (target & mask) == destination && IsInterfaceName(fields[0]))
            {
                best = fields[0];
                bestWidth = width;
            }
        }

        return best is not null && bridges.Contains(best) ? best : null;
    }

    private static bool CoversLoopback(KernelRoute route) =>
        route.HostIp.Equals(IPAddress.Any) || route.HostIp.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(route.HostIp);

    private static bool IsInterfaceName(string name) =>
        name.Length is > 0 and <= 15 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static IEnumerable<(int HostPort, int ContainerPort, IPAddress Backend)> AllowedOf(IEnumerable<KernelRoute> routes) =>
        routes.Where(r => !IPAddress.IsLoopback(r.HostIp)).SelectMany(r => r.Backends.Select(b => (r.HostPort, r.ContainerPort, b)));

    /// <summary>Once: the bridges a previous agent switched route_localnet on for, and whether its rules are still there.</summary>
    private void StartLocked()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        try
        {
            if (File.Exists(_localnetFile))
            {
                _localnet.UnionWith(File.ReadAllLines(_localnetFile).Where(IsInterfaceName));
            }
        }
        catch (IOException e)
        {
            LogRecordFailed(_localnetFile, e.Message);
        }

        _tablePresent = Run("nft", ["list", "table", "ip", Table], null, out _);
        _chainPresent = Run("iptables", ["-w", "-S", ForwardChain], null, out _);
    }

    /// <summary>Applies a ruleset; when nft refuses it, removes the table so that no stale rule carries clients anywhere.</summary>
    private bool ApplyRuleset(string ruleset)
    {
        if (ruleset == _applied)
        {
            return true;
        }

        if (Run("nft", ["-f", "-"], ruleset, out var error))
        {
            _applied = ruleset;
            _tablePresent = true;
            return true;
        }

        LogRulesFailed(error);
        _applied = null;
        _tablePresent = !DeleteTable();
        RestoreLocalnet([]);
        return false;
    }

    private bool DeleteTable() => Run("nft", ["-f", "-"], $"table ip {Table}\ndelete table ip {Table}\n", out _);

    /// <summary>No route left: the table, the DOCKER-USER jump and its chain go, route_localnet is switched back.</summary>
    private void ClearLocked()
    {
        RestoreLocalnet([]);
        if (_tablePresent || _applied is not null)
        {
            if (DeleteTable())
            {
                _tablePresent = false;
            }
            else
            {
                LogClearFailed(Table);
            }
        }

        if (_chainPresent || _allowed is not null)
        {
            Run("iptables", ["-w", "-D", "DOCKER-USER", "-j", ForwardChain], null, out _);
            Run("iptables", ["-w", "-F", ForwardChain], null, out _);
            _chainPresent = !Run("iptables", ["-w", "-X", ForwardChain], null, out _) && Run("iptables", ["-w", "-S", ForwardChain], null, out _);
        }

        _applied = null;
        _allowed = null;
    }

    private bool EnableRouteLocalnet(string bridge)
    {
        var path = $"/proc/sys/net/ipv4/conf/{bridge}/route_localnet";
        try
        {
            if (File.ReadAllText(path).Trim() != "1")
            {
                // Recorded before it is switched on: an agent that dies right after still switches it back.
                if (_localnet.Add(bridge))
                {
                    SaveLocalnet();
                }

                File.WriteAllText(path, "1");
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogLocalnetFailed(bridge, e.Message);
            return false;
        }
    }

    /// <summary>Switches route_localnet off again on the bridges the agent switched it on and no longer needs.</summary>
    private void RestoreLocalnet(IReadOnlyList<string> needed)
    {
        var done = _localnet.Except(needed, StringComparer.Ordinal).ToList();
        foreach (var bridge in done)
        {
            try
            {
                File.WriteAllText($"/proc/sys/net/ipv4/conf/{bridge}/route_localnet", "0");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The bridge is gone with its network.
            }

            _localnet.Remove(bridge);
        }

        if (done.Count > 0)
        {
            SaveLocalnet();
        }
    }

    private void SaveLocalnet()
    {
        try
        {
            if (_localnet.Count == 0)
            {
                File.Delete(_localnetFile);
            }
            else
            {
                AtomicFile.Write(_localnetFile, Encoding.UTF8.GetBytes(string.Join('\n', _localnet.Order(StringComparer.Ordinal)) + "\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite, durable: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogRecordFailed(_localnetFile, e.Message);
        }
    }

    /// <summary>
    /// Lets through Docker's FORWARD filter (clients on other machines) exactly the connections NAT
    /// sent from an owned port to one of its containers: one chain of the agent's, rebuilt in one
    /// iptables-restore, jumped to from the end of DOCKER-USER (before a final RETURN), so the rules an
    /// operator keeps there are met first.
    /// </summary>
    private void AllowForwarded(IEnumerable<(int HostPort, int ContainerPort, IPAddress Backend)> allowed)
    {
        var rules = new StringBuilder($"*filter\n:{ForwardChain} - [0:0]\n");
        foreach (var (hostPort, containerPort, backend) in allowed.Distinct().OrderBy(a => a.HostPort).ThenBy(a => a.Backend.ToString(), StringComparer.Ordinal))
        {
            rules.Append(CultureInfo.InvariantCulture, $"-A {ForwardChain} -d {backend}/32 -p tcp --dport {containerPort} -m conntrack --ctstate DNAT --ctorigdstport {hostPort} -j ACCEPT\n");
        }

        rules.Append("COMMIT\n");
        var text = rules.ToString();
        if (text == _allowed)
        {
            return;
        }

        if (!Run("iptables", ["-w", "-S", "DOCKER-USER"], null, out _, out var listing))
        {
            if (!_warnedNoDockerUser)
            {
                _warnedNoDockerUser = true;
                LogNoDockerUser();
            }

            return;
        }

        if (!Run("iptables-restore", ["-w", "--noflush"], text, out var error))
        {
            LogForwardFailed(error);
            return;
        }

        _chainPresent = true;
        var rulesThere = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("-A DOCKER-USER ", StringComparison.Ordinal)).ToList();
        if (!rulesThere.Contains($"-A DOCKER-USER -j {ForwardChain}"))
        {
            string[] jump = rulesThere.Count > 0 && rulesThere[^1] == "-A DOCKER-USER -j RETURN"
                ? ["-w", "-I", "DOCKER-USER", rulesThere.Count.ToString(CultureInfo.InvariantCulture), "-j", ForwardChain]
                : ["-w", "-A", "DOCKER-USER", "-j", ForwardChain];
            if (!Run("iptables", jump, null, out error))
            {
                LogForwardFailed(error);
                return;
            }
        }

        _allowed = text;
    }

    private static bool Run(string tool, IReadOnlyList<string> arguments, string? input, out string error) => Run(tool, arguments, input, out error, out _);

    /// <summary>Runs one of the kernel's tools (no shell; the input is addresses and numbers the agent wrote).</summary>
    private static bool Run(string tool, IReadOnlyList<string> arguments, string? input, out string error, out string output)
    {
        try
        {
            var run = new ChildProcessOptions { Timeout = CommandTimeout, StandardInput = input is null ? null : Encoding.UTF8.GetBytes(input) };
            // Synchronous on purpose: a swap's switch is in force when the set's change returns.
            var result = ChildProcess.RunAsync(tool, arguments, run).GetAwaiter().GetResult();
            error = result.StandardError.Trim().ReplaceLineEndings(" ");
            output = result.StandardOutput;
            return result.Succeeded;
        }
        catch (Exception e) when (e is DsoException or TimeoutException or OperationCanceledException)
        {
            error = $"{e.Message} (install nftables and iptables, or set proxy.forwarding: userland)";
            output = string.Empty;
            return false;
        }
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Error, Message = "kernel forwarding: nft refused the agent's rules ({Error}); the table is removed and the proxy's listeners carry the connections (under systemd, install the drop-in kernel-forwarding.conf: docs/rotation.md)")]
    private partial void LogRulesFailed(string error);

    [LoggerMessage(EventId = 321, Level = LogLevel.Warning, Message = "kernel forwarding: cannot set route_localnet on {Bridge} ({Error}); clients on the host's loopback go through the listener")]
    private partial void LogLocalnetFailed(string bridge, string error);

    [LoggerMessage(EventId = 322, Level = LogLevel.Warning, Message = "kernel forwarding: cannot let forwarded connections through DOCKER-USER ({Error}); clients on other machines may be dropped by Docker's FORWARD filter")]
    private partial void LogForwardFailed(string error);

    [LoggerMessage(EventId = 323, Level = LogLevel.Warning, Message = "kernel forwarding: the host has no DOCKER-USER chain (Docker's iptables rules are off, or it uses another firewall backend); connections from other machines pass only if nothing else drops them")]
    private partial void LogNoDockerUser();

    [LoggerMessage(EventId = 324, Level = LogLevel.Warning, Message = "kernel forwarding: the rules of table {Table} were removed by someone else (a firewall reload?); putting them back")]
    private partial void LogRulesRestored(string table);

    [LoggerMessage(EventId = 326, Level = LogLevel.Warning, Message = "kernel forwarding: cannot keep the record of the bridges it switched route_localnet on in {File} ({Error})")]
    private partial void LogRecordFailed(string file, string error);

    [LoggerMessage(EventId = 325, Level = LogLevel.Error, Message = "kernel forwarding: cannot remove the nftables table {Table}; remove it by hand (nft delete table ip {Table})")]
    private partial void LogClearFailed(string table);
}
