using System.CommandLine;
using System.Text.Json;
using Dso.Configuration;
using YamlDotNet.Serialization;

namespace Dso.Cli.Commands.Config;

/// <summary>`docker dso config show [--json]`: every key with its effective value; credentials redacted.</summary>
internal sealed class ConfigShowCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption();

    public ConfigShowCommand(CliContext context)
        : base(context, "show", "Print the effective configuration (file values and defaults), credentials redacted.")
    {
        Options.Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var loaded = ConfigLoader.Load(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory);
        var tree = ConfigPrinter.Tree(loaded.Config);
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(JsonSerializer.Serialize(tree, ConfigTreeJson.Default.SortedDictionaryStringObject));
        }
        else
        {
            Context.Out.WriteLine($"# effective configuration ({loaded.Path ?? "no dso.yaml found: defaults"})");
            Context.Out.Write(new SerializerBuilder().Build().Serialize(tree));
        }

        return Task.FromResult(ExitCodes.Success);
    }
}
