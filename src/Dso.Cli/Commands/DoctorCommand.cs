using System.CommandLine;
using Dso.Cli.Doctor;

namespace Dso.Cli.Commands;

/// <summary>`docker dso doctor`: every check with its verdict and fix; exit 1 when one fails.</summary>
internal sealed class DoctorCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption("Print the checks as JSON (id, verdict, detail, fix).");
    private readonly Option<string> _level = new("--level") { Description = "basic: the host, the engine, the agent; full: also the systemd units, the launcher, the RAM directory and every reference of the compose project here.", HelpName = "basic|full", DefaultValueFactory = _ => "basic" };
    private readonly Option<bool> _allowProviders = new("--allow-providers") { Description = "With --level full: let the project's own dso.yaml start its provider programs and contact its providers (only for a project you trust)." };

    public DoctorCommand(CliContext context)
        : base(context, "doctor", "Check the engine, compose, the launcher, the RAM directory, the agent and its socket, the providers, the clock.")
    {
        Options.Add(_json);
        Options.Add(_level);
        Options.Add(_allowProviders);
        _level.AcceptOnlyFromAmong("basic", "full");
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var checkup = new Checkup(Context);
        var checks = parseResult.GetValue(_level) == "full"
            ? await checkup.RunFullAsync(parseResult.GetValue(_allowProviders), cancellationToken)
            : await checkup.RunAsync(cancellationToken);
        var report = new DoctorReport(checks, checks.Count(c => c.Verdict == "pass"), checks.Count(c => c.Verdict == "warn"), checks.Count(c => c.Verdict == "fail"));
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(report));
        }
        else
        {
            TextTable.Write(Context, ["CHECK", "VERDICT", "DETAIL"], checks.Select(c => new[] { c.Id, c.Verdict, c.Detail }));
            foreach (var check in checks.Where(c => c.Fix is not null))
            {
                Context.Out.WriteLine($"  {check.Id}: {check.Fix}");
            }

            Context.Out.WriteLine($"{report.Passed} passed, {report.Warnings} warning(s), {report.Failures} failed");
        }

        return report.Failures == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
