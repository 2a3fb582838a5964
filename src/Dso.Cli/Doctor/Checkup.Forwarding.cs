using Dso.Cli.Commands.SystemService;

namespace Dso.Cli.Doctor;

/// <summary>
/// `proxy.forwarding: kernel`: what the agent needs to program the kernel — nft and iptables on the
/// host, and, when the agent runs from its systemd unit, a drop-in that gives back what the unit's
/// hardening withholds (CAP_NET_ADMIN; packaging/systemd/kernel-forwarding.conf). Without them the
/// agent falls back to its listeners and says so once in its log; this says it before.
/// </summary>
internal sealed partial class Checkup
{
    private const string ForwardingCheckId = "proxy.forwarding";

    // Where the tools live on Debian; a user's PATH often lacks the sbin directories the agent's has.
    private static readonly string[] SystemBinaries = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"];

    private static readonly string[] ForwardingTools = ["nft", "iptables"];

    private static readonly string[] UnitDirectories = ["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

    private DoctorCheck KernelForwardingCheck()
    {
        try
        {
            return ForwardingPrerequisites();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DoctorCheck.Warn(ForwardingCheckId, $"could not read the agent's systemd drop-ins: {e.Message}", "run docker dso doctor as root");
        }
    }

    private DoctorCheck ForwardingPrerequisites()
    {
        var missing = ForwardingTools.Where(tool => FindTool(tool) is null).ToList();
        if (missing.Count > 0)
        {
            return DoctorCheck.Fail(ForwardingCheckId, $"proxy.forwarding is kernel but {string.Join(" and ", missing)} {(missing.Count == 1 ? "is" : "are")} not installed: the agent's listeners will carry every connection", "apt-get install nftables iptables (or set proxy.forwarding: userland)");
        }

        var tools = $"nft ({FindTool("nft")}) and iptables ({FindTool("iptables")}) found";
        if (!UnitDirectories.Any(d => File.Exists(Path.Combine(d, SystemLayout.AgentUnit))))
        {
            return DoctorCheck.Pass(ForwardingCheckId, $"{tools}; no systemd unit for the agent here");
        }

        var grants = UnitDirectories
            .Select(d => Path.Combine(d, SystemLayout.AgentUnit + ".d"))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.conf"))
            .FirstOrDefault(f => File.ReadLines(f).Any(l => !l.TrimStart().StartsWith('#') && l.Contains("CAP_NET_ADMIN", StringComparison.Ordinal)));
        return grants is not null
            ? DoctorCheck.Pass(ForwardingCheckId, $"{tools}; {grants} gives the agent's unit CAP_NET_ADMIN")
            : DoctorCheck.Fail(ForwardingCheckId, $"proxy.forwarding is kernel but the agent's systemd unit withholds CAP_NET_ADMIN: nft will be refused and the listeners carry every connection",
                "sudo install -D -m 0644 /usr/lib/dso/systemd/kernel-forwarding.conf /etc/systemd/system/dso-agent.service.d/kernel-forwarding.conf (from a release archive: /usr/local/lib/dso/systemd/), then systemctl daemon-reload && systemctl restart dso-agent");
    }

    private string? FindTool(string name) =>
        (Variable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(SystemBinaries)
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);
}
