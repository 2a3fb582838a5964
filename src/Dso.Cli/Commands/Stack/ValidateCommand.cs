using System.CommandLine;
using Dso.Injection.Compose;
using Dso.Injection.References;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// `docker dso validate`: checks a compose project offline — it parses, every reference is well
/// formed and resolvable, and no secret-looking value is written in plain text. Exit 0 when
/// valid (warnings allowed unless --strict), 1 otherwise. When dso.yaml belongs to the project (it
/// lies in the project's or the working directory), its providers that run a program or reach a
/// network are not started unless --allow-providers is given: checking an untrusted checkout must
/// neither execute code from it nor send the user's credentials where it says.
/// </summary>
internal sealed class ValidateCommand : DsoCommand
{
    private readonly ProjectOptions _projectOptions = new();
    private readonly Option<bool> _strict = new("--strict") { Description = "Fail (exit 1) on warnings too." };
    private readonly Option<bool> _json = JsonOption();
    private readonly Option<bool> _allowProviders = new("--allow-providers") { Description = "Let the project's own dso.yaml start its provider programs and contact its providers' endpoints (only for a project you trust)." };

    public ValidateCommand(CliContext context)
        : base(context, "validate", "Check a compose project offline: syntax, every reference resolvable, no plain-text secrets.")
    {
        _projectOptions.AddTo(this);
        Options.Add(_strict);
        Options.Add(_json);
        Options.Add(_allowProviders);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var session = new StackSession(Context);
        var project = session.LoadProject(_projectOptions.Read(parseResult));
        var references = ReferenceCollector.Collect(project).Values.SelectMany(r => r).ToList();
        var owned = new List<IDisposable>();
        IReadOnlyList<ReferenceOutcome> outcomes;
        try
        {
            outcomes = references.Count == 0 ? [] : await ReferenceResolver.ResolveEachAsync(references, session.Providers(owned, parseResult.GetValue(_allowProviders) ? null : ProjectOwnedConfig(session, project, Context.WorkingDirectory)), cancellationToken);
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }

        foreach (var outcome in outcomes)
        {
            outcome.Value?.Dispose();
        }

        var warnings = project.Warnings.Concat(PlaintextFinder.Find(project).Select(f => f.Message)).ToList();
        var valid = outcomes.All(o => o.Error is null) && !(parseResult.GetValue(_strict) && warnings.Count > 0);
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(new ValidationReport(
                project.Name,
                project.Files,
                valid,
                [.. outcomes.Select(o => new ReferenceReport(o.Reference.Service, o.Reference.Variable, Context.Masked(o.Reference.Text), o.Reference.Where, o.Error is null, o.Error is null ? null : Context.Masked(o.Error), ProviderOf(session, o.Reference), o.Reference.SecretsEngineId))],
                [.. warnings.Select(Context.Masked)])));
        }
        else
        {
            WriteText(session, project, outcomes, warnings, valid);
        }

        return valid ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>dso.yaml's path when it lies in the project's directory or the working directory (a checkout's own file), else null.</summary>
    internal static string? ProjectOwnedConfig(StackSession session, ComposeProject project, string workingDirectory) =>
        session.Config.Path is { } path && new[] { project.Directory, workingDirectory }.Any(d => IsUnder(path, d))
            ? Path.GetRelativePath(workingDirectory, path) is var relative && !relative.StartsWith("..", StringComparison.Ordinal) ? "./" + relative : path
            : null;

    private static bool IsUnder(string path, string directory) =>
        Path.GetFullPath(path).StartsWith(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + "/", StringComparison.Ordinal);

    /// <summary>The provider a reference resolves through: the one it names, else the default (null when there is none).</summary>
    private static string? ProviderOf(StackSession session, ServiceReference reference) =>
        reference.Reference.Provider ?? Dso.Configuration.ConfigLoader.DefaultProvider(session.Config.Config);

    /// <summary>A reference as the table shows it; an `se://` id with the provider and path it resolves through.</summary>
    private string Shown(StackSession session, ServiceReference reference) =>
        Context.Masked(reference.SecretsEngineId is { } id
            ? $"se://{id} -> {ProviderOf(session, reference) ?? "(no default provider)"}:{reference.Reference.Path}"
            : reference.Text);

    private void WriteText(StackSession session, ComposeProject project, IReadOnlyList<ReferenceOutcome> outcomes, List<string> warnings, bool valid)
    {
        var services = outcomes.Select(o => o.Reference.Service).Distinct().Count();
        Context.Out.WriteLine($"project {project.Name} ({string.Join(", ", project.Files.Select(Path.GetFileName))}): {outcomes.Count} reference{(outcomes.Count == 1 ? string.Empty : "s")} in {services} service{(services == 1 ? string.Empty : "s")}");
        if (outcomes.Count > 0)
        {
            TextTable.Write(Context, ["", "SERVICE", "VARIABLE", "REFERENCE", "WHERE"], outcomes.Select(o => new[]
            {
                o.Error is null ? "ok" : "ERROR",
                o.Reference.Service,
                o.Reference.Variable,
                Shown(session, o.Reference),
                o.Reference.Where,
            }));
        }

        foreach (var outcome in outcomes.Where(o => o.Error is not null))
        {
            Context.Error.WriteLine(Context.Masked($"error: {outcome.Reference.Where}: {Shown(session, outcome.Reference)}: {outcome.Error}"));
        }

        foreach (var warning in warnings)
        {
            Context.Error.WriteLine(Context.Masked($"warning: {warning}"));
        }

        Context.Out.WriteLine(valid ? "valid" : "invalid");
    }
}
