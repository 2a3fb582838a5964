using System.CommandLine;
using System.Text.Json;
using Dso.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

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
            var emitter = new Emitter(Context.Out);
            emitter.Emit(new StreamStart());
            emitter.Emit(new DocumentStart());
            Emit(emitter, tree);
            emitter.Emit(new DocumentEnd(isImplicit: true));
            emitter.Emit(new StreamEnd());
        }

        return Task.FromResult(ExitCodes.Success);
    }

    /// <summary>The printer's tree (maps, lists, strings, nulls) as YAML; a null is an empty value.</summary>
    private static void Emit(IEmitter emitter, object? value)
    {
        switch (value)
        {
            case IDictionary<string, object?> map:
                emitter.Emit(new MappingStart());
                foreach (var (key, child) in map)
                {
                    emitter.Emit(new Scalar(key));
                    Emit(emitter, child);
                }

                emitter.Emit(new MappingEnd());
                break;
            case IEnumerable<object?> list:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, SequenceStyle.Any));
                foreach (var item in list)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case null:
                emitter.Emit(new Scalar(AnchorName.Empty, new TagName("tag:yaml.org,2002:null"), string.Empty, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
            default:
                emitter.Emit(new Scalar(value.ToString()!));
                break;
        }
    }
}
