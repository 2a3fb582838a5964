using System.CommandLine;
using Dso.Injection.Compose;
using Dso.Injection.References;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// `docker dso validate`: checks a compose project offline — it parses, every reference is well
/// formed and resolvable, and no secret-looking value is written in plain text. Exit 0 when
/// valid (warnings allowed unless --strict), 1 otherwise. It runs no program a dso.yaml names
/// (`type: plugin` providers) unless --allow-plugins is given: checking an untrusted checkout must
/// not execute code from it.
/// </summary>
internal sealed class ValidateCommand : DsoCommand
{
    private readonly ProjectOptions _projectOptions = new();
    private readonly Option<bool> _strict = new("--strict") { Description = "Fail (exit 1) on warnings too." };
    private readonly Option<bool> _json = JsonOption();
    private readonly Option<bool> _allowPlugins = new("--allow-plugins") { Description = "Start the programs of dso.yaml's type: plugin providers to check their references (only for a checkout you trust)." };

    public ValidateCommand(CliContext context)
        : base(context, "validate", "Check a compose project offline: syntax, every reference resolvable, no plain-text secrets.")
    {
        _projectOptions.AddTo(this);
        Options.Add(_strict);
        Options.Add(_json);
        Options.Add(_allowPlugins);
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
            outcomes = references.Count == 0 ? [] : await ReferenceResolver.ResolveEachAsync(references, session.Providers(owned, parseResult.GetValue(_allowPlugins)), cancellationToken);
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
                [.. outcomes.Select(o => new ReferenceReport(o.Reference.Service, o.Reference.Variable, o.Reference.Text, o.Reference.Where, o.Error is null, o.Error))],
                warnings)));
        }
        else
        {
            WriteText(project, outcomes, warnings, valid);
        }

        return valid ? ExitCodes.Success : ExitCodes.Failure;
    }

    private void WriteText(ComposeProject project, IReadOnlyList<ReferenceOutcome> outcomes, List<string> warnings, bool valid)
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
                o.Reference.Text,
                o.Reference.Where,
            }));
        }

        foreach (var outcome in outcomes.Where(o => o.Error is not null))
        {
            Context.Error.WriteLine($"error: {outcome.Reference.Where}: {outcome.Reference.Text}: {outcome.Error}");
        }

        foreach (var warning in warnings)
        {
            Context.Error.WriteLine($"warning: {warning}");
        }

        Context.Out.WriteLine(valid ? "valid" : "invalid");
    }
}
