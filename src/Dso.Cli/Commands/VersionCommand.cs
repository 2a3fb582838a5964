using System.CommandLine;
using System.Runtime.InteropServices;

namespace Dso.Cli.Commands;

/// <summary>`docker dso version`: version, commit and build date.</summary>
internal sealed class VersionCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption();

    public VersionCommand(CliContext context)
        : base(context, "version", "Show the version, commit and build date.")
    {
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var info = BuildInfo.Current;
        var report = new VersionReport(info.Version, info.Commit, info.BuildDate, RuntimeInformation.FrameworkDescription, RuntimeInformation.RuntimeIdentifier);
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(report));
        }
        else
        {
            Context.Out.WriteLine($"DSO {report.Version}");
            Context.Out.WriteLine($" commit:     {report.Commit}");
            Context.Out.WriteLine($" built:      {report.BuildDate}");
            Context.Out.WriteLine($" runtime:    {report.Runtime} ({report.Os})");
        }

        return Task.FromResult(ExitCodes.Success);
    }
}
