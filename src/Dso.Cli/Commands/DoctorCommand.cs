using System.CommandLine;
using Dso.Cli.Doctor;

namespace Dso.Cli.Commands;

/// <summary>`docker dso doctor`: every check with its verdict and fix; exit 1 when one fails.</summary>
internal sealed class DoctorCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption("Print the checks as JSON (id, verdict, detail, fix).");

    public DoctorCommand(CliContext context)
        : base(context, "doctor", "Check the engine, compose, the launcher, the RAM directory, the agent and its socket, the providers, the clock.")
    {
        Options.Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var checks = await new Checkup(Context).RunAsync(cancellationToken);
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
