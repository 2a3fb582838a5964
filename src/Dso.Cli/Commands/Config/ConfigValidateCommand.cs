using System.CommandLine;
using Dso.Configuration;

namespace Dso.Cli.Commands.Config;

/// <summary>`docker dso config validate`: loads dso.yaml strictly; one line and exit 1 when it is wrong.</summary>
internal sealed class ConfigValidateCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption("Print the file checked, its providers and the default provider as JSON.");

    public ConfigValidateCommand(CliContext context)
        : base(context, "validate", "Check dso.yaml: syntax, known keys, types, allowed values.")
    {
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var loaded = ConfigLoader.Load(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory);
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(new ConfigValidationJson(loaded.Path, true, [.. loaded.Config.Providers.Keys.Order(StringComparer.Ordinal)], ConfigLoader.DefaultProvider(loaded.Config))));
            return Task.FromResult(ExitCodes.Success);
        }

        Context.Out.WriteLine(loaded.Path is null
            ? "no dso.yaml found (looked in ./dso.yaml, ~/.config/dso/dso.yaml, /etc/dso/dso.yaml): the defaults apply"
            : $"{loaded.Path} is valid ({loaded.Config.Providers.Count} provider(s) configured; default provider: {ConfigLoader.DefaultProvider(loaded.Config) ?? "none: references must name one"})");
        return Task.FromResult(ExitCodes.Success);
    }
}

/// <summary>`config validate --json` (an invalid file is one error line on stderr and exit 1, as without --json).</summary>
internal sealed record ConfigValidationJson(string? Path, bool Valid, IReadOnlyList<string> Providers, string? DefaultProvider);
