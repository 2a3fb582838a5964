using Dso.DotEnv;
using Dso.Yaml;

namespace Dso.Injection.Compose;

/// <summary>
/// Merges one service's definitions from successive compose files with Compose's rules for the
/// fields DSO reads: scalars and lists replace, environment and labels merge by key.
/// </summary>
internal sealed class ServiceBuilder(string name, string where)
{
    private readonly List<EnvironmentEntry> _environment = [];
    private readonly List<EnvironmentEntry> _envFileEntries = [];
    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal);
    private readonly List<string> _dependsOn = [];
    private readonly List<PublishedPort> _ports = [];
    private string? _image;
    private bool _hasBuild;
    private List<string>? _entrypoint;
    private List<string>? _command;
    private List<string> _profiles = [];
    private string? _user;
    private string? _containerName;
    private YMap? _extension;

    public void Apply(YMap definition, string fileDirectory, IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (key, node) in definition.Entries)
        {
            switch (key)
            {
                case "image":
                    _image = Scalar(node, key);
                    break;
                case "build":
                    _hasBuild = node is not YScalar { Value: null };
                    break;
                case "entrypoint":
                    _entrypoint = Words(node, key);
                    break;
                case "command":
                    _command = Words(node, key);
                    break;
                case "environment":
                    ReadEnvironment(node, variables);
                    break;
                case "env_file":
                    ReadEnvFiles(node, fileDirectory);
                    break;
                case "profiles":
                    _profiles = Strings(node, key);
                    break;
                case "user":
                    _user = Scalar(node, key);
                    break;
                case "container_name":
                    _containerName = Scalar(node, key);
                    break;
                case "labels":
                    foreach (var (label, value) in KeyValues(node, key))
                    {
                        _labels[label] = value ?? string.Empty;
                    }

                    break;
                case "ports":
                    // Compose merges ports of successive files as a set (same target, host port, address and protocol).
                    foreach (var port in PublishedPort.Parse(node, name))
                    {
                        _ports.RemoveAll(p => p.Key == port.Key);
                        _ports.Add(port);
                    }

                    break;
                case "depends_on":
                    _dependsOn.AddRange(node is YMap map ? map.Entries.Select(e => e.Key) : Strings(node, key));
                    break;
                case "x-dso":
                    _extension = node as YMap ?? throw new DsoException($"{node.Where}: x-dso of service {name} must be a mapping");
                    break;
                default:
                    break;
            }
        }
    }

    public ComposeService Build() => new(
        name,
        where,
        _image,
        _hasBuild,
        _entrypoint,
        _command,
        [.. _envFileEntries, .. _environment],
        _profiles,
        _user,
        _labels,
        [.. _dependsOn.Distinct(StringComparer.Ordinal)],
        _extension,
        _ports,
        _containerName);

    private void ReadEnvironment(YNode node, IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (key, value, at) in KeyValuesWithLines(node, "environment"))
        {
            // `KEY` alone (or `KEY:` with no value) takes the value from the shell, as compose does.
            var resolved = value ?? variables.GetValueOrDefault(key);
            _environment.RemoveAll(e => e.Name == key);
            _environment.Add(new EnvironmentEntry(key, resolved, at));
        }
    }

    private void ReadEnvFiles(YNode node, string fileDirectory)
    {
        _envFileEntries.Clear();
        var items = node is YSeq seq ? seq.Items : [node];
        foreach (var item in items)
        {
            var (path, required) = item switch
            {
                YScalar { Value: { } p } => (p, true),
                YMap map when map["path"] is YScalar { Value: { } p } => (p, (map["required"] as YScalar)?.Value is not ("false" or "False")),
                _ => throw new DsoException($"{item.Where}: env_file of service {name} must be a path or a list of paths"),
            };
            var full = Path.GetFullPath(path, fileDirectory);
            if (!File.Exists(full))
            {
                if (!required)
                {
                    continue;
                }

                throw new DsoException($"{item.Where}: env_file {full} of service {name} does not exist");
            }

            foreach (var entry in DotEnvParser.Parse(File.ReadAllText(full), full))
            {
                _envFileEntries.Add(new EnvironmentEntry(entry.Key, entry.Value, $"{Path.GetFileName(full)}:{entry.Line}"));
            }
        }
    }

    private string? Scalar(YNode node, string key) => node switch
    {
        YScalar scalar => scalar.Value,
        _ => throw new DsoException($"{node.Where}: {key} of service {name} must be a single value"),
    };

    private List<string> Words(YNode node, string key) => node switch
    {
        YScalar { Value: null } => [],
        YScalar scalar => ShellWords.Split(scalar.Value, node.Where),
        YSeq seq => [.. seq.Items.Select(i => i is YScalar { Value: { } v } ? v : throw new DsoException($"{i.Where}: every item of {key} of service {name} must be a string"))],
        _ => throw new DsoException($"{node.Where}: {key} of service {name} must be a string or a list"),
    };

    private List<string> Strings(YNode node, string key) => node switch
    {
        YScalar { Value: null } => [],
        YScalar { Value: { } v } => [v],
        YSeq seq => [.. seq.Items.Select(i => i is YScalar { Value: { } v } ? v : throw new DsoException($"{i.Where}: every item of {key} of service {name} must be a string"))],
        _ => throw new DsoException($"{node.Where}: {key} of service {name} must be a list"),
    };

    private IEnumerable<(string Key, string? Value)> KeyValues(YNode node, string field) =>
        KeyValuesWithLines(node, field).Select(t => (t.Key, t.Value));

    private IEnumerable<(string Key, string? Value, string Where)> KeyValuesWithLines(YNode node, string field)
    {
        switch (node)
        {
            case YScalar { Value: null }:
                yield break;
            case YMap map:
                foreach (var (key, value) in map.Entries)
                {
                    yield return value is YScalar scalar
                        ? (key, scalar.Value, value.Where)
                        : throw new DsoException($"{value.Where}: {field} {key} of service {name} must be a single value");
                }

                break;
            case YSeq seq:
                foreach (var item in seq.Items)
                {
                    if (item is not YScalar { Value: { } text })
                    {
                        throw new DsoException($"{item.Where}: every item of {field} of service {name} must be KEY=VALUE");
                    }

                    var equals = text.IndexOf('=', StringComparison.Ordinal);
                    yield return equals < 0 ? (text, null, item.Where) : (text[..equals], text[(equals + 1)..], item.Where);
                }

                break;
            default:
                throw new DsoException($"{node.Where}: {field} of service {name} must be a mapping or a list of KEY=VALUE");
        }
    }
}
