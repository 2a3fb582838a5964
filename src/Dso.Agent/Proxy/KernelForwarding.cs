using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dso.Agent.Hosting;
using Dso.Processes;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Proxy;

/// <summary>One host port carried by the kernel: where clients connect, and the containers new connections go to.</summary>
internal sealed record KernelRoute(IPAddress HostIp, int HostPort, int ContainerPort, IReadOnlyList<IPAddress> Backends);

/// <summary>
/// `proxy.forwarding: kernel` (spec 6): the host ports the agent owns are carried to their service's
/// containers by NAT rules in an nftables table of the agent's own (`ip dso`), so the data path stays
/// in the kernel. The whole table is replaced in one nftables transaction whenever a port or a
/// service's set of containers changes: a swap's switch is one atomic step, and connections already
/// open keep their container (conntrack decided their NAT on their first packet), which is what lets
/// old containers drain. Clients on the host's loopback need `route_localnet` on the bridges the
/// containers are on, as Docker's own kernel path sets it, and a guard that drops packets for
/// 127.0.0.0/8 arriving on those bridges (neighbours must not reach the host's loopback services);
/// their connections are masqueraded so the container can answer. Clients from other machines pass
/// Docker's FORWARD filter through one rule in `DOCKER-USER` (the chain Docker keeps for its users),
/// which accepts only connections NAT sent from the owned ports. The agent's listener stays bound for
/// what NAT leaves to it (IPv6, and a service with no container, whose clients it holds for
/// backend_wait). Everything here runs the host's own `nft` and `iptables`; a failure is logged and
/// leaves forwarding to the listener.
/// </summary>
internal sealed partial class KernelForwarding(AgentOptions options, ILogger<KernelForwarding> log) : IDisposable
{
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

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private readonly Lock _gate = new();
    private string? _applied;
    private string? _allowed;
    private bool _cleared;
    private readonly HashSet<string> _localnet = new(StringComparer.Ordinal);

    /// <summary>
    /// Makes the rules exactly <paramref name="routes"/> (no route: no table). False when the kernel's
    /// tools refused (logged); the listeners then carry every connection.
    /// </summary>
    public bool Apply(IReadOnlyList<KernelRoute> routes)
    {
        lock (_gate)
        {
            if (routes.Count == 0)
            {
                ClearLocked();
                return true;
            }

            var carried = routes.Where(r => r.Backends.Count > 0).OrderBy(r => r.HostPort).ThenBy(r => r.HostIp.ToString(), StringComparer.Ordinal).ToList();
            var bridges = carried.Where(CoversLoopback).SelectMany(r => r.Backends).Select(InterfaceOf).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var loopback = bridges.All(EnableRouteLocalnet);
            RestoreLocalnet(bridges);
            var ruleset = Render(Table, carried, loopback ? bridges : [], loopback);
            if (ruleset == _applied)
            {
                return true;
            }

            if (!Run("nft", ["-f", "-"], ruleset, out var error))
            {
                LogRulesFailed(error);
                _applied = null;
                return false;
            }

            _applied = ruleset;
            AllowForwarded([.. routes.Select(r => r.HostPort).Distinct().Order()]);
            return true;
        }
    }

    /// <summary>Removes the table and the DOCKER-USER rule (agent stop; nothing is left behind).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            ClearLocked();
        }
    }

    public void Dispose() => Clear();

    /// <summary>
    /// No route left: the table, the DOCKER-USER jump and its chain go, route_localnet is switched
    /// back. Also run once at the agent's first sync, so what a crashed agent left is removed.
    /// </summary>
    private void ClearLocked()
    {
        RestoreLocalnet([]);
        if (_applied is not null || _cleared is false)
        {
            Run("nft", ["-f", "-"], $"table ip {Table}\ndelete table ip {Table}\n", out _);
        }

        if (_allowed is not null || _cleared is false)
        {
            Run("iptables", ["-w", "-D", "DOCKER-USER", "-j", ForwardChain], null, out _);
            Run("iptables", ["-w", "-F", ForwardChain], null, out _);
            Run("iptables", ["-w", "-X", ForwardChain], null, out _);
        }

        _applied = null;
        _allowed = null;
        _cleared = true;
    }

    /// <summary>
    /// The ruleset text: declare, delete and rebuild the table in one transaction (or only delete it).
    /// Without <paramref name="loopback"/> (route_localnet could not be set) the host's loopback
    /// clients are left to the listener.
    /// </summary>
    internal static string Render(string table, IReadOnlyList<KernelRoute> routes, IReadOnlyList<string> loopbackBridges, bool loopback = true)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"table ip {table}\ndelete table ip {table}\n");
        if (routes.Count == 0)
        {
            return text.ToString();
        }

        var dnat = new StringBuilder();
        var local = new StringBuilder();
        foreach (var route in routes)
        {
            var destination = route.HostIp.Equals(IPAddress.Any) || route.HostIp.Equals(IPAddress.IPv6Any) ? "fib daddr type local" : $"ip daddr {route.HostIp}";
            var to = route.Backends.Count == 1
                ? route.Backends[0].ToString()
                : $"numgen inc mod {route.Backends.Count} map {{ {string.Join(", ", route.Backends.Select((b, i) => $"{i} : {b}"))} }}";
            var rule = $"{destination} tcp dport {route.HostPort} dnat to {to} : {route.ContainerPort}";
            dnat.Append(CultureInfo.InvariantCulture, $"    {rule}\n");
            local.Append(CultureInfo.InvariantCulture, $"    {(loopback ? string.Empty : "ip daddr != 127.0.0.0/8 ")}{rule}\n");
        }

        var ports = string.Join(", ", routes.Select(r => r.HostPort).Distinct());
        text.Append(CultureInfo.InvariantCulture, $"table ip {table} {{\n");
        text.Append("  chain prerouting {\n    type nat hook prerouting priority dstnat - 1; policy accept;\n").Append(dnat).Append("  }\n");
        text.Append("  chain output {\n    type nat hook output priority -101; policy accept;\n").Append(local).Append("  }\n");
        text.Append("  chain postrouting {\n    type nat hook postrouting priority srcnat - 1; policy accept;\n");
        text.Append(CultureInfo.InvariantCulture, $"    ct status dnat meta l4proto tcp ct original proto-dst {{ {ports} }} fib saddr type local masquerade\n  }}\n");
        if (loopbackBridges.Count > 0)
        {
            text.Append("  chain guard {\n    type filter hook prerouting priority raw; policy accept;\n");
            text.Append(CultureInfo.InvariantCulture, $"    iifname {{ {string.Join(", ", loopbackBridges.Select(b => $"\"{b}\""))} }} ip daddr 127.0.0.0/8 drop\n  }}\n");
        }

        text.Append("}\n");
        return text.ToString();
    }

    private static bool CoversLoopback(KernelRoute route) =>
        route.HostIp.Equals(IPAddress.Any) || route.HostIp.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(route.HostIp);

    /// <summary>The interface the kernel routes <paramref name="address"/> through (longest prefix in /proc/net/route).</summary>
    internal static string? InterfaceOf(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }

        var target = BitConverter.ToUInt32(address.GetAddressBytes());
        string? best = null;
        var bestMask = -1L;
        foreach (var line in File.ReadLines("/proc/net/route").Skip(1))
        {
            var fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length < 8
                || !uint.TryParse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var destination)
                || !uint.TryParse(fields[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
            {
                continue;
            }

            var width = (long)uint.PopCount(mask);
            if ((target & mask) == destination && width > bestMask && IsInterfaceName(fields[0]))
            {
                best = fields[0];
                bestMask = width;
            }
        }

        return best;
    }

    private static bool IsInterfaceName(string name) =>
        name.Length is > 0 and <= 15 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private bool EnableRouteLocalnet(string bridge)
    {
        var path = $"/proc/sys/net/ipv4/conf/{bridge}/route_localnet";
        try
        {
            if (File.ReadAllText(path).Trim() != "1")
            {
                File.WriteAllText(path, "1");
                _localnet.Add(bridge);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogLocalnetFailed(bridge, e.Message);
            return false;
        }
    }

    /// <summary>
    /// Switches route_localnet off again on the bridges the agent switched it on and no longer needs
    /// (the guard against neighbours reaching the host's loopback goes with the table).
    /// </summary>
    private void RestoreLocalnet(IReadOnlyList<string> needed)
    {
        foreach (var bridge in _localnet.Except(needed, StringComparer.Ordinal).ToList())
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
    }

    /// <summary>
    /// Lets connections NAT sent from the owned ports through Docker's FORWARD filter (clients on other
    /// machines): one chain of the agent's, rebuilt in one iptables-restore, jumped to from DOCKER-USER.
    /// Nothing when the host has no DOCKER-USER (Docker's iptables management is off: nothing drops them).
    /// </summary>
    private void AllowForwarded(IReadOnlyList<int> ports)
    {
        var rules = new StringBuilder($"*filter\n:{ForwardChain} - [0:0]\n");
        foreach (var port in ports)
        {
            rules.Append(CultureInfo.InvariantCulture, $"-A {ForwardChain} -p tcp -m conntrack --ctstate DNAT --ctorigdstport {port} -j ACCEPT\n");
        }

        rules.Append("COMMIT\n");
        var text = rules.ToString();
        if (text == _allowed || !Run("iptables", ["-w", "-S", "DOCKER-USER"], null, out _))
        {
            return;
        }

        if (!Run("iptables-restore", ["-w", "--noflush"], text, out var error)
            || (!Run("iptables", ["-w", "-C", "DOCKER-USER", "-j", ForwardChain], null, out _)
                && !Run("iptables", ["-w", "-I", "DOCKER-USER", "-j", ForwardChain], null, out error)))
        {
            LogForwardFailed(error);
            return;
        }

        _allowed = text;
    }

    /// <summary>Runs one of the kernel's tools (no shell; the input is addresses and numbers the agent wrote).</summary>
    private static bool Run(string tool, IReadOnlyList<string> arguments, string? input, out string error)
    {
        try
        {
            var options = new ChildProcessOptions { Timeout = CommandTimeout, StandardInput = input is null ? null : Encoding.UTF8.GetBytes(input) };
            // Synchronous on purpose: a swap's switch is in force when the set's change returns.
            var result = ChildProcess.RunAsync(tool, arguments, options).GetAwaiter().GetResult();
            error = result.StandardError.Trim().ReplaceLineEndings(" ");
            return result.Succeeded;
        }
        catch (Exception e) when (e is DsoException or TimeoutException or OperationCanceledException)
        {
            error = $"{e.Message} (install nftables and iptables, or set proxy.forwarding: userland)";
            return false;
        }
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Error, Message = "kernel forwarding: nft refused the agent's rules ({Error}); the proxy's listeners carry the connections (under systemd, install the drop-in kernel-forwarding.conf: docs/rotation.md)")]
    private partial void LogRulesFailed(string error);

    [LoggerMessage(EventId = 321, Level = LogLevel.Warning, Message = "kernel forwarding: cannot set route_localnet on {Bridge} ({Error}); clients on the host's loopback go through the listener")]
    private partial void LogLocalnetFailed(string bridge, string error);

    [LoggerMessage(EventId = 322, Level = LogLevel.Warning, Message = "kernel forwarding: cannot let forwarded connections through DOCKER-USER ({Error}); clients on other machines may be dropped by Docker's FORWARD filter")]
    private partial void LogForwardFailed(string error);
}
