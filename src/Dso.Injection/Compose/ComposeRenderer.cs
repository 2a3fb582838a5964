using System.Globalization;
using Dso.Ipc;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dso.Injection.Compose;

/// <summary>
/// Takes the host ports the agent's proxy now owns out of a project. A compose override can add
/// ports but never remove them (both compose front ends merge `ports:` as a set), so DSO asks compose
/// itself for the merged model (`config`: every file, the override, extends and anchors resolved),
/// deletes those entries, and runs compose on that one document, kept in the RAM directory. It holds
/// references, never values — but interpolated `.env` values, so it never touches a disk either.
/// `$` must come out doubled so compose reads the text back unchanged: recent front ends double it
/// themselves, older ones do not; a sentinel label tells which.
/// </summary>
internal static class ComposeRenderer
{
    public const string SentinelLabel = "dso.render-check";

    /// <summary>The sentinel as the override writes it (the writer doubles the `$`, so compose reads one).</summary>
    public const string SentinelValue = "$";

    public static string RemovePorts(string configOutput, IReadOnlyDictionary<string, IReadOnlyList<PortRegistration>> moved)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(configOutput));
        }
        catch (YamlException e)
        {
            throw new DsoException($"compose config printed something DSO cannot read ({e.Message}); run it yourself to see why");
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("services"), out var servicesNode) || servicesNode is not YamlMappingNode services)
        {
            throw new DsoException("compose config printed no services: mapping");
        }

        var composeEscapes = false;
        foreach (var (key, node) in services.Children)
        {
            if (node is not YamlMappingNode service)
            {
                continue;
            }

            composeEscapes |= TakeSentinel(service);
            if (key is YamlScalarNode { Value: { } name } && moved.TryGetValue(name, out var ports)
                && service.Children.TryGetValue(new YamlScalarNode("ports"), out var portsNode) && portsNode is YamlSequenceNode list)
            {
                var keep = list.Children.Where(entry => !ports.Any(p => Matches(entry, p, name))).ToList();
                if (keep.Count == 0)
                {
                    service.Children.Remove(new YamlScalarNode("ports"));
                }
                else
                {
                    service.Children[new YamlScalarNode("ports")] = new YamlSequenceNode(keep);
                }
            }
        }

        if (!composeEscapes)
        {
            EscapeDollars(root);
        }

        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        writer.WriteLine("# Rendered by docker dso: the project as compose merged it, without the host ports the DSO proxy owns. No secret values.");
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    /// <summary>Removes the sentinel label; true when compose printed its `$` doubled.</summary>
    private static bool TakeSentinel(YamlMappingNode service)
    {
        if (!service.Children.TryGetValue(new YamlScalarNode("labels"), out var labelsNode))
        {
            return false;
        }

        switch (labelsNode)
        {
            case YamlMappingNode labels when labels.Children.TryGetValue(new YamlScalarNode(SentinelLabel), out var value):
                labels.Children.Remove(new YamlScalarNode(SentinelLabel));
                return (value as YamlScalarNode)?.Value == "$$";
            case YamlSequenceNode items:
                var item = items.Children.OfType<YamlScalarNode>().FirstOrDefault(i => i.Value?.StartsWith(SentinelLabel + "=", StringComparison.Ordinal) == true);
                if (item is null)
                {
                    return false;
                }

                items.Children.Remove(item);
                return item.Value == SentinelLabel + "=$$";
            default:
                return false;
        }
    }

    private static bool Matches(YamlNode entry, PortRegistration port, string service)
    {
        var parsed = entry switch
        {
            YamlScalarNode { Value: { } text } => PublishedPort.ParseShort(text, "compose config", service).ToList(),
            YamlMappingNode map => [Long(map)],
            _ => [],
        };
        return parsed.Count > 0 && parsed.All(p => p.IsTcp && p.Published == port.HostPort && p.Target == port.ContainerPort
            && (p.HostIp.Length == 0 ? "0.0.0.0" : p.HostIp) == port.HostIp);
    }

    private static PublishedPort Long(YamlMappingNode map)
    {
        string? Field(string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? (node as YamlScalarNode)?.Value : null;
        int? Number(string? text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        return new PublishedPort(Field("host_ip") ?? string.Empty, Number(Field("published")), Number(Field("target")) ?? 0, (Field("protocol") ?? "tcp").ToLowerInvariant(), "compose config");
    }

    private static void EscapeDollars(YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode scalar when scalar.Value?.Contains('$', StringComparison.Ordinal) == true:
                scalar.Value = scalar.Value.Replace("$", "$$", StringComparison.Ordinal);
                break;
            case YamlMappingNode map:
                foreach (var (_, child) in map.Children)
                {
                    EscapeDollars(child);
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var child in sequence.Children)
                {
                    EscapeDollars(child);
                }

                break;
        }
    }
}
