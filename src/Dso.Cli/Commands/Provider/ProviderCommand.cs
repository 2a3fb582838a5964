using System.CommandLine;
using Dso.Plugins;
using Dso.Providers.HashiCorp;
using Dso.Providers.Plugins;

namespace Dso.Cli.Commands.Provider;

/// <summary>`docker dso provider …`: provider plugins.</summary>
internal static class ProviderCommand
{
    public static Command Create(CliContext context) =>
        new("provider", "Work with provider plugins (docs/providers.md).") { new ProviderTestCommand(context) };
}

/// <summary>
/// `docker dso provider test`: runs the conformance kit against a plugin executable
/// (`-- COMMAND ARGS…`) or a provider dso.yaml configures (`--provider NAME`).
/// </summary>
internal sealed class ProviderTestCommand : DsoCommand
{
    private readonly Option<string?> _provider = new("--provider") { HelpName = "NAME", Description = "Test this provider from dso.yaml (its built-in plugin, or its command) instead of a command line." };
    private readonly Option<string?> _configJson = new("--plugin-config") { HelpName = "FILE.json", Description = "A JSON file sent as the config in initialize (default: {}, or the provider's own configuration with --provider)." };
    private readonly Option<string[]> _secret = new("--secret") { HelpName = "PATH", Description = "A path the plugin must resolve to a value (repeatable; at least one).", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
    private readonly Option<string> _missing = new("--missing") { HelpName = "PATH", Description = "A path that does not exist there.", DefaultValueFactory = _ => "dso-conformance/does-not-exist" };
    private readonly Option<string[]> _env = new("--env") { HelpName = "NAME", Description = "An environment variable the plugin may see (repeatable; others are withheld, as in the agent)." };
    private readonly Option<bool> _json = JsonOption();
    private readonly Argument<string[]> _command = new("command") { Description = "The plugin executable and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };

    public ProviderTestCommand(CliContext context)
        : base(context, "test", "Run the plugin conformance kit against an executable or a configured provider.")
    {
        Options.Add(_provider);
        Options.Add(_configJson);
        Options.Add(_secret);
        Options.Add(_missing);
        Options.Add(_env);
        Options.Add(_json);
        Arguments.Add(_command);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var secrets = parseResult.GetValue(_secret) ?? [];
        if (secrets.Length == 0)
        {
            throw new UsageException("provider test needs at least one --secret PATH that the plugin can resolve");
        }

        var command = parseResult.GetValue(_command) ?? [];
        PluginLaunch launch;
        byte[] config;
        if (parseResult.GetValue(_provider) is { } name)
        {
            var loaded = Configuration.ConfigLoader.Load(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory);
            if (!loaded.Config.Providers.TryGetValue(name, out var provider) || !Dso.Providers.ProviderFactory.PluginTypes.Contains(provider.Type!))
            {
                throw new UsageException($"--provider {name}: dso.yaml configures no provider of that name that runs as a plugin (types {string.Join(", ", Dso.Providers.ProviderFactory.PluginTypes.Order(StringComparer.Ordinal))})");
            }

            launch = Dso.Providers.ProviderFactory.LaunchFor(provider, PluginHost.Default(Context.GetEnvironmentVariable), parseResult.GetValue(_env));
            config = BackendConfig.Write(provider);
        }
        else if (command.Length > 0)
        {
            launch = new PluginLaunch(command[0], command[1..], PluginLaunch.EnvironmentFor(parseResult.GetValue(_env) ?? [], Context.GetEnvironmentVariable));
            config = parseResult.GetValue(_configJson) is { } file ? ReadConfig(file) : "{}"u8.ToArray();
        }
        else
        {
            throw new UsageException("provider test needs a plugin: -- COMMAND ARGS…, or --provider NAME from dso.yaml");
        }

        var kit = new ConformanceKit(launch, config, secrets, parseResult.GetValue(_missing)!, TimeSpan.FromSeconds(10));
        var checks = await kit.RunAsync(cancellationToken);
        var failed = checks.Count(c => !c.Passed);
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(new System.Text.Json.Nodes.JsonArray([.. checks.Select(c => new System.Text.Json.Nodes.JsonObject { ["id"] = c.Id, ["passed"] = c.Passed, ["detail"] = c.Detail })]).ToJsonString());
        }
        else
        {
            foreach (var check in checks)
            {
                Context.Out.WriteLine($"{(check.Passed ? "pass" : "FAIL"),-5} {check.Id,-18} {check.Detail}");
            }

            Context.Out.WriteLine($"{checks.Count - failed} passed, {failed} failed (protocol version {PluginProtocol.Version})");
        }

        return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static byte[] ReadConfig(string file)
    {
        try
        {
            var bytes = File.ReadAllBytes(file);
            using var document = System.Text.Json.JsonDocument.Parse(bytes);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object ? bytes : throw new UsageException($"--plugin-config {file} must hold a JSON object");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new UsageException($"--plugin-config {file}: {e.Message}");
        }
    }
}

/// <summary>`docker-dso provider-plugin TYPE` (hidden): the built-in providers' plugin side, started by the agent or the CLI.</summary>
internal sealed class ProviderPluginCommand : DsoCommand
{
    private readonly Argument<string> _type = new("type") { Description = "vault, aws, azure or huawei" };

    public ProviderPluginCommand(CliContext context)
        : base(context, "provider-plugin", "Run a built-in provider as a plugin on stdin/stdout (started by DSO itself).")
    {
        Hidden = true;
        Arguments.Add(_type);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var type = parseResult.GetValue(_type);
        Func<BackendConfig, IPluginBackend> create = type switch
        {
            "vault" => config => new VaultBackend(config, Context.GetEnvironmentVariable, TimeProvider.System),
            "aws" => config => new Dso.Providers.Aws.AwsBackend(config, TimeProvider.System),
            "azure" => config => new Dso.Providers.Azure.AzureBackend(config, Context.GetEnvironmentVariable),
            "huawei" => config => new Dso.Providers.Huawei.HuaweiBackend(config, Context.GetEnvironmentVariable, TimeProvider.System),
            _ => throw new UsageException($"no built-in provider plugin named {type} (vault, aws, azure, huawei)"),
        };
        return PluginServer.RunAsync(Context.StandardInput, Context.StandardOutput, create, cancellationToken);
    }
}
