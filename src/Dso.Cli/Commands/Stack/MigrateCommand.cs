using System.CommandLine;
using Dso.Cli.Vault;
using Dso.Configuration;
using Dso.Injection.Migration;
using Dso.Secrets;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// `docker dso migrate`: finds plain-text secrets in a compose project (`environment:`, `env_file:`,
/// `.env` interpolation), shows the plan, imports the values into the local vault in one write and
/// writes copies of the files with references in their place. Originals are never edited; a file
/// that already exists is never overwritten without --force.
/// </summary>
internal sealed class MigrateCommand : DsoCommand
{
    private readonly ProjectOptions _projectOptions = new();
    private readonly Option<string?> _prefix = new("--project") { Description = "Name the secrets PROJECT/VARIABLE (default: the compose project's name).", HelpName = "PROJECT" };
    private readonly Option<string[]> _keep = new("--keep") { Description = "Leave this variable as it is (repeatable).", HelpName = "VARIABLE" };
    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "Show the plan; import and write nothing." };
    private readonly Option<bool> _force = new("--force") { Description = "Replace copies written by an earlier run, and vault secrets that hold another value." };
    private readonly Option<bool> _json = JsonOption("Print the plan (and what was done) as JSON.");

    public MigrateCommand(CliContext context)
        : base(context, "migrate", "Move plain-text secrets of a compose project into the vault and write a copy of its files that uses references.")
    {
        _projectOptions.AddTo(this);
        Options.Add(_prefix);
        Options.Add(_keep);
        Options.Add(_dryRun);
        Options.Add(_force);
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var session = new StackSession(Context);
        var project = session.LoadProject(_projectOptions.Read(parseResult));
        var prefix = parseResult.GetValue(_prefix) ?? project.Name;
        if (SecretName.Problem(prefix) is { } problem)
        {
            throw new DsoException($"--project '{prefix}': {problem}");
        }

        var plan = ComposeMigration.Plan(project, prefix, ReferencePrefix(session), new HashSet<string>(parseResult.GetValue(_keep) ?? [], StringComparer.Ordinal));
        var dryRun = parseResult.GetValue(_dryRun);
        var force = parseResult.GetValue(_force);
        var json = parseResult.GetValue(_json);
        var command = "docker dso up " + string.Join(' ', plan.ComposeFiles.Select(f => "-f " + Path.GetRelativePath(Context.WorkingDirectory, f)));
        if (plan.Items.Count == 0)
        {
            Print(json, plan, dryRun, null, command, $"no plain-text secrets found in project {plan.Project}; nothing to do");
            return Task.FromResult(ExitCodes.Success);
        }

        if (dryRun)
        {
            Print(json, plan, dryRun, null, command, "dry run: nothing was imported or written");
            return Task.FromResult(ExitCodes.Success);
        }

        if (!force && plan.Files.FirstOrDefault(f => File.Exists(f.Path)) is { } existing)
        {
            throw new DsoException($"{existing.Path} already exists (from an earlier migrate?); remove it or pass --force to replace it; nothing was imported or written");
        }

        var values = plan.Values.Select(v => (v.Name, Value: SecretValue.FromString(v.Value))).ToList();
        try
        {
            using var vault = new VaultAccess(Context).Open();
            if (!force)
            {
                foreach (var (name, value) in values)
                {
                    using var current = vault.TryGet(name);
                    if (current is not null && !current.Equals(value))
                    {
                        throw new DsoException($"the vault already holds {name} with another value; pass --project to choose another prefix, or --force to store the new value as its next version; nothing was imported or written");
                    }
                }
            }

            var outcomes = vault.SetMany(values);
            foreach (var file in plan.Files)
            {
                WriteBeside(file);
            }

            var summary = $"imported {outcomes.Count} secret{(outcomes.Count == 1 ? string.Empty : "s")} into {vault.Path} ({outcomes.Count(o => o.Created)} new, {outcomes.Count(o => o.Changed && !o.Created)} updated, {outcomes.Count(o => !o.Changed)} unchanged) and wrote {plan.Files.Count} file{(plan.Files.Count == 1 ? string.Empty : "s")}";
            Print(json, plan, dryRun, outcomes.Count, command, summary);
            Context.Error.WriteLine($"warning: the originals still hold these values in plain text: {string.Join(", ", plan.Plaintext)}. Delete them once '{command}' works, and rotate every value that was ever committed or shared.");
            return Task.FromResult(ExitCodes.Success);
        }
        finally
        {
            values.ForEach(v => v.Value.Dispose());
        }
    }

    /// <summary>`dso://` when the default provider is the local vault, else `dso://local:` so the references name the vault the values went to.</summary>
    private static string ReferencePrefix(StackSession session)
    {
        var config = session.Config.Config;
        var chosen = ConfigLoader.DefaultProvider(config);
        var isLocal = chosen is not null && (config.Providers.TryGetValue(chosen, out var provider) ? provider.Type == "local" : chosen == "local");
        return isLocal ? SecretReference.EnvScheme : SecretReference.EnvScheme + "local:";
    }

    /// <summary>Writes a copy next to its original through a temporary file, with the original's permissions.</summary>
    private static void WriteBeside(RewrittenFile file)
    {
        var temporary = file.Path + ".tmp-" + Environment.ProcessId;
        try
        {
            File.WriteAllText(temporary, file.Text);
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(file.Original));
            File.Move(temporary, file.Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new DsoException($"cannot write {file.Path}: {e.Message}; the secrets are in the vault, run migrate again to write the files");
        }
    }

    private void Print(bool json, MigrationPlan plan, bool dryRun, int? imported, string command, string summary)
    {
        if (json)
        {
            Context.Out.WriteLine(CliJson.Serialize(new MigrationReport(
                plan.Project,
                dryRun,
                imported,
                plan.Items,
                [.. plan.Files.Select(f => new MigrationFileJson(f.Original, f.Path))],
                plan.Plaintext,
                plan.Items.Count > 0 ? command : null)));
            return;
        }

        if (plan.Items.Count > 0)
        {
            TextTable.Write(Context, ["SERVICE", "VARIABLE", "FROM", "SECRET", "WHY"], plan.Items.Select(i => new[] { i.Service, i.Variable, i.Source, i.Secret, i.Reason }));
            foreach (var file in plan.Files)
            {
                Context.Out.WriteLine($"{(dryRun ? "would write" : "wrote")} {Path.GetRelativePath(Context.WorkingDirectory, file.Path)} (a copy of {Path.GetFileName(file.Original)} with references)");
            }
        }

        Context.Out.WriteLine(summary);
        if (plan.Items.Count > 0 && !dryRun)
        {
            Context.Out.WriteLine($"next: {command}");
        }
    }
}

/// <summary>`migrate --json`.</summary>
internal sealed record MigrationReport(string Project, bool DryRun, int? Imported, IReadOnlyList<MigrationItem> Items, IReadOnlyList<MigrationFileJson> Files, IReadOnlyList<string> Plaintext, string? Command);

internal sealed record MigrationFileJson(string Original, string Path);
