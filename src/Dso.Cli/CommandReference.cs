using System.CommandLine;
using System.CommandLine.Help;
using System.Text;

namespace Dso.Cli;

/// <summary>
/// The reference of every command a user can type, read from the command tree itself: the
/// markdown section of docs/cli.md and the man page docker-dso(1). Hidden commands and options
/// (started by DSO itself) are left out.
/// </summary>
internal static class CommandReference
{
    /// <summary>One command: its path under `docker dso`, what it does, its arguments and options.</summary>
    public sealed record Entry(string Path, string Description, IReadOnlyList<Argument> Arguments, IReadOnlyList<Option> Options, bool HasSubcommands);

    public static IReadOnlyList<Entry> Entries(RootCommand root)
    {
        var entries = new List<Entry>();
        Walk(root, string.Empty, entries);
        return entries;
    }

    /// <summary>`docker dso PATH ARGS [options]`.</summary>
    public static string Usage(Entry entry)
    {
        var usage = new StringBuilder("docker dso");
        if (entry.Path.Length > 0)
        {
            usage.Append(' ').Append(entry.Path);
        }

        if (entry.HasSubcommands)
        {
            usage.Append(" COMMAND");
        }

        foreach (var argument in entry.Arguments)
        {
            var name = argument.HelpName ?? argument.Name.ToUpperInvariant();
            var many = argument.Arity.MaximumNumberOfValues > 1 ? "…" : string.Empty;
            usage.Append(' ').Append(argument.Arity.MinimumNumberOfValues == 0 ? $"[{name}{many}]" : $"{name}{many}");
        }

        if (entry.Options.Count > 0)
        {
            usage.Append(" [options]");
        }

        return usage.ToString();
    }

    /// <summary>`-f, --file FILE`.</summary>
    public static string OptionSyntax(Option option)
    {
        var names = option.Aliases.Where(a => a.Length == 2).Order(StringComparer.Ordinal).Append(option.Name);
        var value = option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool) ? string.Empty : " " + (option.HelpName ?? "VALUE");
        return string.Join(", ", names) + value;
    }

    public static string Markdown(RootCommand root)
    {
        var text = new StringBuilder();
        foreach (var entry in Entries(root))
        {
            text.Append("### `").Append(Usage(entry)).Append("`\n\n").Append(entry.Description).Append("\n\n");
            if (entry.Options.Count > 0)
            {
                text.Append("| option | |\n|---|---|\n");
                foreach (var option in entry.Options)
                {
                    text.Append("| `").Append(OptionSyntax(option)).Append("` | ").Append(Describe(option).Replace("|", "\\|", StringComparison.Ordinal)).Append(" |\n");
                }

                text.Append('\n');
            }
        }

        return text.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>docker-dso(1) in roff, dated with the build so the page is reproducible.</summary>
    public static string Man(RootCommand root, BuildInfo build)
    {
        var date = build.BuildDate.Length >= 10 ? build.BuildDate[..10] : build.BuildDate;
        var entries = Entries(root);
        var text = new StringBuilder();
        text.Append(".TH DOCKER-DSO 1 \"").Append(date).Append("\" \"docker-dso ").Append(build.Version).Append("\" \"DSO manual\"\n.nh\n.ad l\n");
        text.Append(".SH NAME\ndocker-dso \\- ").Append(Roff(root.Description ?? string.Empty)).Append('\n');
        text.Append(".SH SYNOPSIS\n.B docker dso\n.I COMMAND\n[options]\n.br\n.B docker-dso\n.I COMMAND\n[options]\n");
        text.Append(".SH DESCRIPTION\n")
            .Append("DSO delivers secrets from a provider (its local encrypted vault, HashiCorp Vault, AWS Secrets Manager, Azure Key Vault, Huawei CSMS or a plugin) into Docker Compose containers, ")
            .Append("without writing them to the host's disk or showing them in docker inspect, and rotates running containers when a secret changes. ")
            .Append("A compose file names a secret by reference: dso://NAME puts its value in an environment variable, dsofile://NAME in a file under /run/secrets/dso.\n");
        text.Append(".SH COMMANDS\n");
        foreach (var entry in entries.Skip(1))
        {
            text.Append(".SS \"").Append(Roff(Usage(entry))).Append("\"\n").Append(Roff(entry.Description)).Append('\n');
            foreach (var option in entry.Options)
            {
                text.Append(".TP\n.B ").Append(Roff(OptionSyntax(option))).Append('\n').Append(Roff(Describe(option))).Append('\n');
            }
        }

        text.Append(".SH OPTIONS\nFor every command:\n");
        foreach (var option in entries[0].Options)
        {
            text.Append(".TP\n.B ").Append(Roff(OptionSyntax(option))).Append('\n').Append(Roff(Describe(option))).Append('\n');
        }

        text.Append(".TP\n.B \\-h, \\-\\-help\nShow the command's help.\n");
        text.Append(".SH EXIT STATUS\n0 on success, 1 on failure, 2 on a usage error.\n");
        text.Append(".SH FILES\n")
            .Append(".TP\n.B ~/.dso/vault.dso\nThe local vault (DSO_HOME moves it).\n")
            .Append(".TP\n.B /etc/dso/dso.yaml\nThe agent's configuration.\n")
            .Append(".TP\n.B /run/dso/dso.sock\nThe agent's socket, for root and members of the dso group.\n");
        text.Append(".SH SEE ALSO\n.BR docker (1),\n.BR docker-compose (1)\n");
        return text.ToString();
    }

    private static string Describe(Option option)
    {
        var description = option.Description ?? string.Empty;
        return option.Required ? description + " Required." : description;
    }

    /// <summary>Text safe in a roff line: backslashes and hyphens escaped, no line starting with a control character.</summary>
    private static string Roff(string text)
    {
        var escaped = text.Replace("\\", "\\e", StringComparison.Ordinal).Replace("-", "\\-", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)
            .Replace("…", "...", StringComparison.Ordinal).Replace("→", "\\(->", StringComparison.Ordinal).Replace("—", "\\(em", StringComparison.Ordinal);
        return escaped.StartsWith('.') || escaped.StartsWith('\'') ? "\\&" + escaped : escaped;
    }

    private static void Walk(Command command, string path, List<Entry> entries)
    {
        var options = command.Options.Where(o => !o.Hidden && o is not HelpOption && o is not VersionOption).ToList();
        var children = command.Subcommands.Where(c => !c.Hidden).ToList();
        entries.Add(new Entry(path, command.Description ?? string.Empty, [.. command.Arguments.Where(a => !a.Hidden)], options, children.Count > 0));
        foreach (var child in children)
        {
            Walk(child, $"{path} {child.Name}".Trim(), entries);
        }
    }
}
