using System.CommandLine;
using Dso.Configuration;

namespace Dso.Cli.Commands.Config;

/// <summary>`docker dso config validate`: loads dso.yaml strictly; one line and exit 1 when it is wrong.</summary>
internal sealed class ConfigValidateCommand : DsoCommand
{
    public ConfigValidateCommand(CliContext context)
        : base(context, "validate", "Check dso.yaml: syntax, known keys, types, allowed values.")
    {
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var loaded = ConfigLoader.Load(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory);
        Context.Out.WriteLine(loaded.Path is null
            ? "no dso.yaml found (looked in ./dso.yaml, ~/.config/dso/dso.yaml, /etc/dso/dso.yaml): the defaults apply"
            : $"{loaded.Path} is valid ({loaded.Config.Providers.Count} provider(s) configured; default provider: {ConfigLoader.DefaultProvider(loaded.Config) ?? "none: references must name one"})");
        return Task.FromResult(ExitCodes.Success);
    }
}
