using System.Globalization;
using System.Net;
using Dso.Yaml;

namespace Dso.Injection.Compose;

/// <summary>
/// One host port a service publishes: compose's short syntax
/// (`[HOST_IP:][PUBLISHED[-END]:]TARGET[-END][/PROTOCOL]`) or long syntax (`target`, `published`,
/// `host_ip`, `protocol`), ranges expanded. <see cref="Published"/> is null for an ephemeral host port.
/// </summary>
internal sealed record PublishedPort(string HostIp, int? Published, int Target, string Protocol, string Where)
{
    public bool IsTcp => Protocol == "tcp";

    /// <summary>Compose's own identity of a port entry when it merges files.</summary>
    public (int Target, int? Published, string HostIp, string Protocol) Key => (Target, Published, HostIp, Protocol);

    public static IReadOnlyList<PublishedPort> Parse(YNode node, string service)
    {
        var ports = new List<PublishedPort>();
        if (node is YScalar { Value: null })
        {
            return ports;
        }

        if (node is not YSeq seq)
        {
            throw new DsoException($"{node.Where}: ports of service {service} must be a list");
        }

        foreach (var item in seq.Items)
        {
            switch (item)
            {
                case YScalar { Value: { } text }:
                    ports.AddRange(ParseShort(text, item.Where, service));
                    break;
                case YMap map:
                    ports.Add(ParseLong(map, service));
                    break;
                default:
                    throw new DsoException($"{item.Where}: every item of ports of service {service} must be \"[HOST_IP:]HOST:CONTAINER[/PROTOCOL]\" or a mapping with target:");
            }
        }

        return ports;
    }

    /// <summary>Short syntax, also used by the `dso.host_ports` label.</summary>
    public static IEnumerable<PublishedPort> ParseShort(string text, string where, string service)
    {
        var spec = text.Trim();
        var protocol = "tcp";
        var slash = spec.LastIndexOf('/');
        if (slash >= 0)
        {
            protocol = spec[(slash + 1)..].ToLowerInvariant();
            spec = spec[..slash];
            if (protocol is not ("tcp" or "udp" or "sctp"))
            {
                throw Bad(text, where, service, $"protocol '{protocol}' is not tcp, udp or sctp");
            }
        }

        string hostIp = string.Empty;
        string? published = null;
        string target;
        var lastColon = spec.LastIndexOf(':');
        if (lastColon < 0)
        {
            target = spec;
        }
        else
        {
            target = spec[(lastColon + 1)..];
            var rest = spec[..lastColon];
            var ipColon = rest.LastIndexOf(':');
            if (rest.StartsWith('[') && rest.Contains(']', StringComparison.Ordinal))
            {
                // [::1]:8080 — an IPv6 host address in brackets.
                var close = rest.IndexOf(']', StringComparison.Ordinal);
                hostIp = rest[1..close];
                published = rest[(close + 1)..].TrimStart(':');
            }
            else if (ipColon >= 0)
            {
                hostIp = rest[..ipColon];
                published = rest[(ipColon + 1)..];
            }
            else
            {
                published = rest;
            }

            if (hostIp.Length > 0 && !IPAddress.TryParse(hostIp, out _))
            {
                throw Bad(text, where, service, $"'{hostIp}' is not an IP address");
            }
        }

        var (targetStart, targetEnd) = Range(target, text, where, service);
        if (string.IsNullOrEmpty(published))
        {
            for (var port = targetStart; port <= targetEnd; port++)
            {
                yield return new PublishedPort(hostIp, null, port, protocol, where);
            }

            yield break;
        }

        var (publishedStart, publishedEnd) = Range(published, text, where, service);
        if (publishedEnd - publishedStart != targetEnd - targetStart)
        {
            if (targetStart == targetEnd)
            {
                throw Bad(text, where, service, "a range of host ports for one container port picks a free one at start; DSO cannot proxy that, write one host port");
            }

            throw Bad(text, where, service, "the host and container ranges have different lengths");
        }

        for (var offset = 0; offset <= targetEnd - targetStart; offset++)
        {
            yield return new PublishedPort(hostIp, publishedStart + offset, targetStart + offset, protocol, where);
        }
    }

    private static PublishedPort ParseLong(YMap map, string service)
    {
        string? Field(string key) => map[key] switch
        {
            null => null,
            YScalar scalar => scalar.Value,
            var other => throw new DsoException($"{other.Where}: ports.{key} of service {service} must be a single value"),
        };

        var target = Field("target") ?? throw new DsoException($"{map.Where}: a ports entry of service {service} has no target:");
        var protocol = (Field("protocol") ?? "tcp").ToLowerInvariant();
        var published = Field("published");
        var hostIp = Field("host_ip") ?? string.Empty;
        var (port, _) = Range(target, target, map.Where, service);
        int? host = published is null ? null : Range(published, published, map.Where, service).Start;
        return new PublishedPort(hostIp, host, port, protocol, map.Where);
    }

    private static (int Start, int End) Range(string text, string whole, string where, string service)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var start = Number(dash < 0 ? text : text[..dash], whole, where, service);
        var end = dash < 0 ? start : Number(text[(dash + 1)..], whole, where, service);
        return end >= start ? (start, end) : throw Bad(whole, where, service, $"the range {text} ends before it starts");
    }

    private static int Number(string text, string whole, string where, string service) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw Bad(whole, where, service, $"'{text}' is not a port number (1-65535)");

    private static DsoException Bad(string text, string where, string service, string problem) =>
        new($"{where}: port '{text}' of service {service}: {problem}");
}
