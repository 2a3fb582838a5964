using Dso.Cli.Vault;
using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.Secrets;
using Dso.Processes;
using Dso.Providers;
using Dso.Configuration;

namespace Dso.Cli.Commands.Stack;

/// <summary>
/// What the stack commands (up, down, compose, validate) share: loading the compose project from
/// the user's arguments, the providers, the RAM store, and running compose with an environment
/// that carries no DSO credentials.
/// </summary>
internal sealed class StackSession(CliContext context)
{
    /// <summary>Variables that unlock secrets: never passed on to compose or any other child.</summary>

    public CliContext Context => context;

    /// <summary>
    /// The compose project, with dso.yaml's `secrets:` mapped onto the services they target and
    /// each `se://ID` replaced by the reference dso.yaml's realms map it to.
    /// </summary>
    public ComposeProject LoadProject(ComposeOptions options)
    {
        var project = ComposeLoader.Load(options, context.Environment, context.WorkingDirectory);
        context.ErrorMasks.Add(project.Mask);
        // Applied even when dso.yaml maps nothing: a dso.secrets label naming no entry is an error then too (fail closed).
        project = Dso.Injection.References.SecretMappings.Apply(project, Config.Config, Config.Path);
        return Dso.Injection.References.SecretsEngineReferences.Apply(project, Config.Config);
    }

    public EngineEndpoint LocalEngine() => EngineEndpoint.Resolve(context.GetEnvironmentVariable).RequireLocal();

    public Task<ComposeFrontEnd> FrontEndAsync(CancellationToken cancellationToken) =>
        ComposeFrontEnd.DetectAsync(context.GetEnvironmentVariable, cancellationToken);

    public SecretStore Store() => SecretStore.Locate(context.GetEnvironmentVariable);

    public string DsoHome => new VaultAccess(context).Settings.Home;

    private LoadedConfig? _config;

    /// <summary>dso.yaml (--config, else the lookup), loaded once.</summary>
    public LoadedConfig Config => _config ??= Remember(ConfigLoader.Load(context.ConfigPath, context.GetEnvironmentVariable, context.WorkingDirectory));

    private LoadedConfig Remember(LoadedConfig loaded)
    {
        context.ErrorMasks.Add(loaded.Mask);
        return loaded;
    }

    /// <summary>
    /// The providers references can name: the local vault, and those dso.yaml configures. With
    /// <paramref name="untrustedConfig"/>, dso.yaml belongs to the project being checked and no
    /// provider that runs a program or reaches a network is started.
    /// </summary>
    public ProviderRegistry Providers(List<IDisposable> owned, string? untrustedConfig = null) =>
        ProviderFactory.Create(
            Config.Config,
            (vaultFile, keyFile) => new VaultAccess(context, vaultFile, keyFile).Open(),
            owned,
            Dso.Providers.Plugins.PluginHost.Default(context.GetEnvironmentVariable) with { UntrustedConfig = untrustedConfig });

    /// <summary>Runs compose with its output going straight to the user's terminal; returns its exit code.</summary>
    public async Task<int> RunComposeAsync(ComposeFrontEnd frontEnd, ComposeProject project, string? overrideFile, string subcommand, IEnumerable<string> arguments, CancellationToken cancellationToken, string? rendered = null)
    {
        var result = await ChildProcess.RunAsync(
            frontEnd.Program,
            frontEnd.Arguments(project, overrideFile, subcommand, arguments, rendered),
            new ChildProcessOptions
            {
                WorkingDirectory = context.WorkingDirectory,
                BaseEnvironment = context.Environment,
                InheritOutput = true,
                Timeout = TimeSpan.FromHours(2),
            },
            cancellationToken);
        return result.ExitCode;
    }

    /// <summary>Runs the docker CLI (stack deploy, pull) with its output going straight to the user's terminal; returns its exit code.</summary>
    public async Task<int> RunDockerAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await ChildProcess.RunAsync(
            "docker",
            arguments,
            new ChildProcessOptions
            {
                WorkingDirectory = context.WorkingDirectory,
                BaseEnvironment = context.Environment,
                InheritOutput = true,
                Timeout = TimeSpan.FromHours(2),
            },
            cancellationToken);
        return result.ExitCode;
    }

    /// <summary>`compose config` of the project with the override: the merged model as compose sees it (captured, never shown).</summary>
    public async Task<string> ComposeConfigAsync(ComposeFrontEnd frontEnd, ComposeProject project, string overrideFile, CancellationToken cancellationToken)
    {
        var result = await ChildProcess.RunAsync(
            frontEnd.Program,
            frontEnd.Arguments(project, overrideFile, "config", []),
            new ChildProcessOptions
            {
                WorkingDirectory = context.WorkingDirectory,
                BaseEnvironment = context.Environment,
                Timeout = TimeSpan.FromMinutes(2),
            },
            cancellationToken);
        return result.Succeeded
            ? result.StandardOutput
            : throw new DsoException($"{frontEnd.DisplayName} config failed (exit {result.ExitCode}): {result.StandardError.Trim().Split('\n').LastOrDefault()}");
    }

    /// <summary>The agent's socket: DSO_AGENT_SOCKET, else dso.yaml's agent.socket.</summary>
    public string AgentSocket => context.GetEnvironmentVariable(Dso.Ipc.IpcProtocol.SocketVariable) ?? Config.Config.Agent.Socket;

    /// <summary>The running agent, or null when none answers (local mode).</summary>
    public Task<Dso.Cli.Agent.AgentClient?> ConnectAgentAsync(CancellationToken cancellationToken) =>
        Dso.Cli.Agent.AgentClient.TryConnectAsync(AgentSocket, cancellationToken);

    public void Warn(string message) => context.Error.WriteLine($"dso: warning: {message}");

    public void Say(string message) => context.Error.WriteLine($"dso: {message}");
}
