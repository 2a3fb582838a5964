using System.Text;
using System.Text.RegularExpressions;
using Dso.DotEnv;
using Dso.Injection.Compose;
using Dso.Secrets;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dso.Injection.Migration;

/// <summary>One plain-text value `migrate` moves into the vault.</summary>
internal sealed record MigrationItem(string Service, string Variable, string Secret, string Reason, string Source);

/// <summary>A file `migrate` writes next to its original: the same text with references in place of values.</summary>
internal sealed record RewrittenFile(string Original, string Path, string Text);

/// <summary>What `migrate` will do: the values to import, the files to write, the places that keep the old plain text.</summary>
internal sealed record MigrationPlan(
    string Project,
    IReadOnlyList<MigrationItem> Items,
    IReadOnlyList<(string Name, string Value)> Values,
    IReadOnlyList<RewrittenFile> Files,
    IReadOnlyList<string> ComposeFiles,
    IReadOnlyList<string> Plaintext);

/// <summary>
/// Plans a migration of a compose project from plain-text secrets to references. Each secret-looking
/// value (<see cref="SecretHeuristics"/>) is traced to the text it came from — an `environment:`
/// entry (through anchors, merge keys and `extends`, in any file), an `env_file:` line, or `${VAR}`
/// interpolated from `.env` — and that text alone is replaced by `dso://NAME` in a copy of the file
/// (`compose.yaml` → `compose.dso.yaml`, `app.env` → `app.env.dso`). Files that point at a copied
/// file (`env_file:`, `extends: file:`) are copied too, so the originals are never edited and every
/// comment and anchor is kept. A value shared by several services becomes one secret.
/// </summary>
internal static partial class ComposeMigration
{
    public static MigrationPlan Plan(ComposeProject project, string prefix, string referencePrefix, IReadOnlySet<string> keep)
    {
        var sources = new SourceFiles();
        var found = new List<(ComposeService Service, string Variable, string Value, string Reason, Location Where)>();
        foreach (var service in project.Services)
        {
            var contributions = sources.Contributions(project.Files, service.Name);
            foreach (var (variable, entry) in service.EffectiveEnvironment)
            {
                if (keep.Contains(variable) || SecretHeuristics.Reason(variable, entry.Value) is not { } reason)
                {
                    continue;
                }

                var location = sources.Locate(contributions, variable)
                    ?? throw new DsoException($"{entry.Where}: cannot find the text {variable} of service {service.Name} comes from; migrate it by hand or pass --keep {variable}");
                found.Add((service, variable, entry.Value!, reason, location));
            }
        }

        // One secret per variable when every service gives it the same value, else one per service.
        var items = new List<MigrationItem>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var edits = new List<Edit>();
        var plaintext = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var group in found.GroupBy(f => f.Variable, StringComparer.Ordinal))
        {
            var shared = group.Select(f => f.Value).Distinct(StringComparer.Ordinal).Count() == 1;
            foreach (var (service, variable, value, reason, where) in group)
            {
                var secret = shared ? $"{prefix}/{variable}" : $"{prefix}/{service.Name}/{variable}";
                if (SecretName.Problem(secret) is { } problem)
                {
                    throw new DsoException($"{where.Display}: {variable} of service {service.Name} cannot become the secret '{secret}': {problem}; pass --keep {variable} or choose another --prefix");
                }

                values[secret] = value;
                items.Add(new MigrationItem(service.Name, variable, secret, reason, where.Display));
                edits.Add(where.Replace(referencePrefix + secret));
                plaintext.Add(where.Display);
                foreach (var name in where.InterpolatedNames)
                {
                    if (project.EnvFile is { } envFile && sources.DotEnv(envFile).LastOrDefault(e => e.Key == name) is { } line)
                    {
                        plaintext.Add($"{Path.GetFileName(envFile)}:{line.Line} ({name})");
                    }
                }
            }
        }

        var files = sources.Rewrite(edits);
        return new MigrationPlan(
            project.Name,
            items,
            [.. values.Select(v => (v.Key, v.Value))],
            files,
            [.. project.Files.Select(f => files.FirstOrDefault(r => r.Original == f)?.Path ?? f)],
            [.. plaintext]);
    }

    /// <summary>The copy's name: `.dso` before a YAML extension, else appended.</summary>
    public static string CopyName(string path)
    {
        var extension = Path.GetExtension(path);
        return extension is ".yaml" or ".yml" && Path.GetFileNameWithoutExtension(path).Length > 0
            ? Path.ChangeExtension(path, ".dso" + extension)
            : path + ".dso";
    }

    /// <summary>Plain YAML when the text needs no quotes, else a double-quoted scalar.</summary>
    private static string YamlScalar(string text) =>
        PlainSafe().IsMatch(text) ? text : "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex(@"^[A-Za-z0-9_./${}-][A-Za-z0-9_./:=@${}+-]*$")]
    private static partial Regex PlainSafe();

    [GeneratedRegex(@"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Interpolation();

    /// <summary>One replacement of a span of a file's text.</summary>
    private sealed record Edit(string File, int Start, int End, string Text);

    /// <summary>Where a value came from, and how to put a reference there.</summary>
    private abstract record Location(string File, string Display)
    {
        public virtual IEnumerable<string> InterpolatedNames => [];

        public abstract Edit Replace(string reference);
    }

    /// <summary>A scalar of a compose file: `KEY: value` (the value) or `- KEY=value` (the whole item).</summary>
    private sealed record ScalarLocation(string File, YamlScalarNode Node, string? ListKey) : Location(File, $"{System.IO.Path.GetFileName(File)}:{Node.Start.Line}")
    {
        public override IEnumerable<string> InterpolatedNames =>
            Interpolation().Matches(Node.Value ?? string.Empty).Select(m => m.Groups[1].Value);

        public override Edit Replace(string reference)
        {
            var text = YamlScalar(ListKey is null ? reference : $"{ListKey}={reference}");
            return Node.Start.Index == Node.End.Index
                ? new Edit(File, (int)Node.Start.Index, (int)Node.End.Index, " " + text)
                : new Edit(File, (int)Node.Start.Index, (int)Node.End.Index, text);
        }
    }

    /// <summary>A line (or lines, for a quoted multi-line value) of an env_file.</summary>
    private sealed record EnvLineLocation(string File, DotEnvEntry Entry) : Location(File, $"{System.IO.Path.GetFileName(File)}:{Entry.Line}")
    {
        // Lines are counted from 1; the edit's span is worked out against the file's text by SourceFiles.
        public override Edit Replace(string reference) => new(File, -Entry.Line, -Entry.EndLine, $"{Entry.Key}={reference}");
    }

    /// <summary>A reference from one file to another (`env_file:` item, `extends: file:`), with the scalar that names it.</summary>
    private sealed record FileLink(string From, YamlScalarNode Node, string Target);

    /// <summary>The raw text and YAML of every file the walk touches, and the links between them.</summary>
    private sealed class SourceFiles
    {
        private readonly Dictionary<string, string> _text = new(StringComparer.Ordinal);
        private readonly Dictionary<string, YamlMappingNode> _yaml = new(StringComparer.Ordinal);
        private readonly Dictionary<string, IReadOnlyList<DotEnvEntry>> _dotEnv = new(StringComparer.Ordinal);
        private readonly List<FileLink> _links = [];

        public IReadOnlyList<DotEnvEntry> DotEnv(string path)
        {
            if (!_dotEnv.TryGetValue(path, out var entries))
            {
                entries = DotEnvParser.Parse(Text(path), path);
                _dotEnv[path] = entries;
            }

            return entries;
        }

        /// <summary>The definitions of one service, in the order Compose applies them: per file, its extends chain base first.</summary>
        public List<(string File, YamlMappingNode Definition)> Contributions(IReadOnlyList<string> files, string service)
        {
            var chain = new List<(string, YamlMappingNode)>();
            foreach (var file in files)
            {
                if (ServiceIn(file, service) is { } definition)
                {
                    Extend(file, service, definition, chain, 0);
                }
            }

            return chain;
        }

        /// <summary>The text the effective value of <paramref name="variable"/> came from: the last `environment:` that sets it, else the last env_file line.</summary>
        public Location? Locate(List<(string File, YamlMappingNode Definition)> contributions, string variable)
        {
            for (var i = contributions.Count - 1; i >= 0; i--)
            {
                var (file, definition) = contributions[i];
                switch (Get(definition, "environment"))
                {
                    case YamlMappingNode map when Get(map, variable) is YamlScalarNode scalar:
                        return new ScalarLocation(file, scalar, null);
                    case YamlSequenceNode list:
                        var item = list.Children.OfType<YamlScalarNode>().LastOrDefault(s => s.Value == variable || (s.Value ?? string.Empty).StartsWith(variable + "=", StringComparison.Ordinal));
                        if (item is not null)
                        {
                            return new ScalarLocation(file, item, variable);
                        }

                        break;
                }
            }

            for (var i = contributions.Count - 1; i >= 0; i--)
            {
                var (file, definition) = contributions[i];
                if (Get(definition, "env_file") is not { } envFiles)
                {
                    continue;
                }

                foreach (var target in EnvFileLinks(file, envFiles).Reverse())
                {
                    if (File.Exists(target) && DotEnv(target).LastOrDefault(e => e.Key == variable) is { } entry)
                    {
                        return new EnvLineLocation(target, entry);
                    }
                }

                return null;
            }

            return null;
        }

        /// <summary>Applies the edits to copies of their files, and copies every file that links to a copied one.</summary>
        public List<RewrittenFile> Rewrite(List<Edit> edits)
        {
            var pending = edits.ToList();
            var copied = new HashSet<string>(pending.Select(e => e.File), StringComparer.Ordinal);
            for (var grew = true; grew;)
            {
                grew = false;
                foreach (var link in _links.Where(l => copied.Contains(l.Target)).ToList())
                {
                    var edit = new Edit(link.From, (int)link.Node.Start.Index, (int)link.Node.End.Index, YamlScalar(CopyName(link.Node.Value!)));
                    if (!pending.Contains(edit))
                    {
                        pending.Add(edit);
                        grew |= copied.Add(link.From);
                    }
                }
            }

            return [.. copied.Order(StringComparer.Ordinal).Select(file => new RewrittenFile(file, CopyName(file), Apply(file, pending.Where(e => e.File == file))))];
        }

        private string Apply(string file, IEnumerable<Edit> edits)
        {
            var text = Text(file);
            var spans = edits.Select(e => e.Start < 0 ? LineSpan(text, -e.Start, -e.End, e.Text) : e).DistinctBy(e => e.Start).OrderByDescending(e => e.Start);
            var result = new StringBuilder(text);
            foreach (var edit in spans)
            {
                result.Remove(edit.Start, edit.End - edit.Start).Insert(edit.Start, edit.Text);
            }

            return result.ToString();
        }

        /// <summary>Lines <paramref name="first"/>..<paramref name="last"/> (from 1), without the final newline.</summary>
        private static Edit LineSpan(string text, int first, int last, string replacement)
        {
            var start = 0;
            for (var line = 1; line < first; line++)
            {
                start = text.IndexOf('\n', start) + 1;
            }

            var end = start;
            for (var line = first; line <= last; line++)
            {
                var newline = text.IndexOf('\n', end);
                end = newline < 0 ? text.Length : (line == last ? newline : newline + 1);
            }

            // A CRLF file keeps its CR.
            if (end > start && end <= text.Length && end > 0 && text[end - 1] == '\r')
            {
                end--;
            }

            return new Edit(string.Empty, start, end, replacement);
        }

        private void Extend(string file, string service, YamlMappingNode definition, List<(string, YamlMappingNode)> chain, int depth)
        {
            if (depth > 32)
            {
                throw new DsoException($"{file}: service {service} extends too deeply (a cycle?)");
            }

            var extends = Get(definition, "extends");
            var (baseFile, baseService) = extends switch
            {
                YamlScalarNode { Value: { Length: > 0 } name } => (file, name),
                YamlMappingNode map when Get(map, "service") is YamlScalarNode { Value: { } name } => Get(map, "file") is YamlScalarNode { Value: { } other } fileNode
                    ? (Link(file, fileNode, Path.GetFullPath(other, Path.GetDirectoryName(file)!)), name)
                    : (file, name),
                _ => (null, null),
            };
            if (baseFile is not null && ServiceIn(baseFile, baseService!) is { } baseDefinition)
            {
                Extend(baseFile, baseService!, baseDefinition, chain, depth + 1);
            }

            if (Get(definition, "env_file") is { } envFiles)
            {
                _ = EnvFileLinks(file, envFiles).ToList();
            }

            chain.Add((file, definition));
        }

        private IEnumerable<string> EnvFileLinks(string file, YamlNode envFiles)
        {
            var items = envFiles is YamlSequenceNode seq ? seq.Children : [envFiles];
            foreach (var item in items)
            {
                var node = item as YamlScalarNode ?? (item is YamlMappingNode map ? Get(map, "path") as YamlScalarNode : null);
                if (node?.Value is { Length: > 0 } path)
                {
                    yield return Link(file, node, Path.GetFullPath(path, Path.GetDirectoryName(file)!));
                }
            }
        }

        private string Link(string from, YamlScalarNode node, string target)
        {
            if (!_links.Any(l => l.From == from && l.Node.Start.Index == node.Start.Index))
            {
                _links.Add(new FileLink(from, node, target));
            }

            return target;
        }

        private YamlMappingNode? ServiceIn(string file, string service) =>
            Get(Yaml(file), "services") is YamlMappingNode services ? Get(services, service) as YamlMappingNode : null;

        private YamlMappingNode Yaml(string file)
        {
            if (!_yaml.TryGetValue(file, out var root))
            {
                var stream = new YamlStream();
                try
                {
                    stream.Load(new StringReader(Text(file)));
                }
                catch (YamlException e)
                {
                    throw new DsoException($"{file}:{e.Start.Line}:{e.Start.Column}: YAML error: {e.Message.Split('\n')[0]}");
                }

                root = stream.Documents.FirstOrDefault()?.RootNode as YamlMappingNode ?? new YamlMappingNode();
                _yaml[file] = root;
            }

            return root;
        }

        private string Text(string file)
        {
            if (!_text.TryGetValue(file, out var text))
            {
                text = File.ReadAllText(file);
                _text[file] = text;
            }

            return text;
        }

        /// <summary>A key of a mapping, looking through `&lt;&lt;:` merge keys as YAML does (own keys first).</summary>
        private static YamlNode? Get(YamlMappingNode map, string key)
        {
            foreach (var (k, v) in map.Children)
            {
                if (k is YamlScalarNode { Value: var name } && name == key)
                {
                    return v;
                }
            }

            if (map.Children.TryGetValue(new YamlScalarNode("<<"), out var merge))
            {
                foreach (var source in merge is YamlSequenceNode list ? list.Children : [merge])
                {
                    if (source is YamlMappingNode mapping && Get(mapping, key) is { } value)
                    {
                        return value;
                    }
                }
            }

            return null;
        }
    }
}
