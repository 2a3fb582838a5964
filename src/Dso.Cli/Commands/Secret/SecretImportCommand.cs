using System.CommandLine;
using Dso.Cli.Vault;
using Dso.DotEnv;
using Dso.Secrets;

namespace Dso.Cli.Commands.Secret;

/// <summary>
/// `docker dso secret import FILE.env [--project P]`: every KEY=VALUE of a dotenv file becomes the
/// secret KEY (or P/KEY) in one write. Nothing is written when any line or name is invalid.
/// </summary>
internal sealed class SecretImportCommand : DsoCommand
{
    private readonly Argument<string> _file = new("FILE") { Description = "A dotenv file (KEY=VALUE lines, quotes, export, comments)." };
    private readonly Option<string?> _project = new("--project") { Description = "Prefix every name with PROJECT/.", HelpName = "PROJECT" };
    private readonly Option<bool> _json = JsonOption("Print each imported secret (name, version, created, changed) and the skipped keys as JSON; never a value.");

    public SecretImportCommand(CliContext context)
        : base(context, "import", "Import the KEY=VALUE lines of a dotenv file as secrets, in one write.")
    {
        Arguments.Add(_file);
        Options.Add(_project);
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(parseResult.GetValue(_file)!, Context.WorkingDirectory);
        if (!File.Exists(path))
        {
            throw new DsoException($"{path}: no such file");
        }

        var project = parseResult.GetValue(_project);
        if (project is not null && SecretName.Problem(project) is { } problem)
        {
            throw new DsoException($"--project '{project}': {problem}");
        }

        var entries = DotEnvParser.Parse(File.ReadAllText(path), path);
        var values = new List<(string Name, SecretValue Value)>();
        var skipped = new List<string>();
        try
        {
            foreach (var entry in entries)
            {
                var name = project is null ? entry.Key : $"{project}/{entry.Key}";
                if (SecretName.Problem(name) is { } nameProblem)
                {
                    throw new DsoException($"{path}:{entry.Line}: {entry.Key} cannot be a secret name: {nameProblem}; nothing was imported");
                }

                if (entry.Value.Length == 0)
                {
                    skipped.Add(entry.Key);
                    continue;
                }

                values.RemoveAll(v => v.Name == name);
                values.Add((name, SecretValue.FromString(entry.Value)));
            }

            using var vault = new VaultAccess(Context).Open();
            var outcomes = values.Count > 0 ? vault.SetMany(values) : [];
            if (parseResult.GetValue(_json))
            {
                Context.Out.WriteLine(CliJson.Serialize(new SecretImportJson(path, [.. outcomes.Select(o => new SecretWriteJson(o.Name, o.Version, o.Created, o.Changed))], skipped)));
            }
            else
            {
                Context.Out.WriteLine(
                $"Imported {outcomes.Count} secrets from {path}: {outcomes.Count(o => o.Created)} new, " +
                $"{outcomes.Count(o => o.Changed && !o.Created)} updated, {outcomes.Count(o => !o.Changed)} unchanged" +
                (skipped.Count > 0 ? $"; skipped {skipped.Count} with an empty value ({string.Join(", ", skipped)})." : "."));
            }

            Context.Error.WriteLine($"warning: {path} still holds these values in plaintext; delete it once your stacks use dso:// references, and rotate any value that was ever committed.");
            return Task.FromResult(ExitCodes.Success);
        }
        finally
        {
            foreach (var (_, value) in values)
            {
                value.Dispose();
            }
        }
    }
}
