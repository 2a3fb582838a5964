using Dso.Configuration;
using Dso.Injection.Compose;
using Dso.Ipc;

namespace Dso.Injection.Planning;

/// <summary>
/// How a service asks to be rotated, read from its compose labels (spec 3.5) and `x-dso:`:
/// `dso.strategy` (or the seed's `dso.update.strategy`, or `x-dso.strategy`), `dso.signal`,
/// `dso.host_ports` (ports the proxy owns, `HOST:CONTAINER`, comma-separated),
/// `dso.rolling.shared-volumes=allow` and `dso.health.probe` (`tcp:PORT`, `http:PORT[/PATH]` or `running:DURATION`).
/// Its published TCP ports go along: a rolling service's ports move to the agent's proxy.
/// </summary>
internal static class RotationLabels
{
    public const string Strategy = "dso.strategy";
    public const string SeedStrategy = "dso.update.strategy";
    public const string Signal = "dso.signal";
    public const string HostPorts = "dso.host_ports";
    public const string SharedVolumes = "dso.rolling.shared-volumes";
    public const string Probe = "dso.health.probe";

    public static ServiceRotation Read(ComposeService service)
    {
        var where = $"{service.Where}: service {service.Name}";
        var strategy = Label(service, Strategy) ?? Label(service, SeedStrategy) ?? DsoExtension.Read(service).Strategy;
        if (strategy is not null && !RotationDefaults.Strategies.Contains(strategy, StringComparer.Ordinal))
        {
            throw new DsoException($"{where}: strategy '{strategy}' is not one of {string.Join(", ", RotationDefaults.Strategies)}");
        }

        var signal = Label(service, Signal);
        if (signal is not null)
        {
            signal = SignalName.Normalize(signal) ?? throw new DsoException($"{where}: label {Signal} '{signal}' is not {SignalName.Expected}");
        }

        var shared = Label(service, SharedVolumes);
        if (shared is not (null or "allow" or "deny"))
        {
            throw new DsoException($"{where}: label {SharedVolumes} must be allow or deny (it is '{shared}')");
        }

        var probe = Label(service, Probe);
        if (probe is not null && ProbeProblem(probe) is { } problem)
        {
            throw new DsoException($"{where}: label {Probe} '{probe}' {problem}");
        }

        var ports = new List<PortRegistration>();
        foreach (var port in service.Ports.Where(p => p.IsTcp && p.Published is not null))
        {
            ports.Add(new PortRegistration(NormalizeHost(port.HostIp), port.Published!.Value, port.Target, PortRegistration.FromCompose, port.Where));
        }

        if (Label(service, HostPorts) is { } hostPorts)
        {
            foreach (var item in hostPorts.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var port in PublishedPort.ParseShort(item, service.Where, service.Name))
                {
                    if (!port.IsTcp || port.Published is null)
                    {
                        throw new DsoException($"{where}: label {HostPorts} '{item}' must be a TCP HOST:CONTAINER pair (the proxy forwards TCP only)");
                    }

                    ports.Add(new PortRegistration(NormalizeHost(port.HostIp), port.Published.Value, port.Target, PortRegistration.FromLabel, $"{service.Where} (label {HostPorts})"));
                }
            }
        }

        if (ports.GroupBy(p => (p.HostIp, p.HostPort)).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new DsoException($"{where}: host port {twice.Key.HostPort} is given twice");
        }

        return new ServiceRotation(strategy, signal, ports, service.DependsOn, shared == "allow", probe);
    }

    /// <summary>Null when the probe is understood, else why not.</summary>
    public static string? ProbeProblem(string probe)
    {
        var colon = probe.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? probe : probe[..colon];
        var argument = colon < 0 ? string.Empty : probe[(colon + 1)..];
        return kind switch
        {
            "tcp" when int.TryParse(argument, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535 => null,
            "running" when Duration.TryParse(argument, out _) => null,
            "http" when HttpProbe.TryParse(argument, out _, out _) => null,
            _ => "is not tcp:PORT (a TCP connect to the container), http:PORT[/PATH] or http://:PORT/PATH (an HTTP GET to the new container answered 2xx or 3xx, or the statuses written after a space: 'http://:8080/health 200,204') or running:DURATION (still running after that long)",
        };
    }

    private static string NormalizeHost(string hostIp) => hostIp.Length == 0 ? "0.0.0.0" : hostIp;

    private static string? Label(ComposeService service, string key) =>
        service.Labels.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
