using Docker.DotNet;
using Dso.Agent.Docker;
using Dso.Agent.Endpoints;
using Dso.Agent.Events;
using Dso.Agent.Ipc;
using Dso.Agent.Notifications;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Proxy;
using Dso.Agent.Rest;
using Dso.Agent.Rotation;
using Dso.Agent.Secrets;
using Dso.Agent.State;
using Dso.Configuration;
using Dso.Injection.Engine;
using Dso.Injection.Planning;
using Dso.Native;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Dso.Agent.Hosting;

/// <summary>
/// `docker dso agent`: checks what must be right before serving (state directory, RAM directory,
/// socket, local engine) and fails with one line if not; then runs Kestrel on the Unix socket
/// (peer credentials read per connection) and the REST address, with the reconciler and the
/// Docker watcher in the background, until SIGTERM.
/// </summary>
internal static class AgentHost
{
    public static async Task<int> RunAsync(LoadedConfig loaded, Func<string, string?> variable, string? logLevel, Action<string> say, CancellationToken cancellationToken)
    {
        await using var app = Build(loaded, variable, logLevel, say);
        return await RunAsync(app, cancellationToken);
    }

    /// <summary>
    /// The agent's web application, checked and configured but not started: the channel gate after
    /// routing, and every endpoint in its group. Tests build it to enumerate its endpoints.
    /// </summary>
    public static WebApplication Build(LoadedConfig loaded, Func<string, string?> variable, string? logLevel, Action<string> say)
    {
        if (loaded.Path is { } configPath && ConfigFileSafety.Problem(configPath) is { } unsafeConfig)
        {
            throw new DsoException(unsafeConfig);
        }

        var options = AgentOptions.From(loaded);
        if (logLevel is not null)
        {
            options = options with { LogLevel = logLevel };
        }

        var time = TimeProvider.System;
        var state = new StateStore(options.StateDirectory);
        state.Initialize();
        var store = SecretsDirectory.Prepare(options.SecretsDirectory, say);
        var endpoint = EngineEndpoint.Resolve(variable).RequireLocal();
        var authorizer = new PeerAuthorizer(options.SocketGroup);
        AgentSocket.PrepareForBind(options.SocketPath);
        if (options.SecretDriverSocket is { } driverSocket)
        {
            AgentSocket.PrepareForBind(driverSocket, "agent.secret_driver.socket", ownerOnly: true);
        }

        if (options.SecretsEngineSocket is { } secretsEngineSocket)
        {
            AgentSocket.PrepareForBind(secretsEngineSocket, "agent.secrets_engine.socket");
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            kestrel.ListenUnixSocket(options.SocketPath, listen => listen.Use(next => connection =>
            {
                var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
                connection.Items[ConnectionChannel.PeerKey] = socket is null ? null : PeerCredentials.Read(socket);
                return next(connection);
            }));
            if (options.SecretDriverSocket is { } driverSocket)
            {
                kestrel.ListenUnixSocket(driverSocket, listen => listen.Use(next => connection =>
                {
                    var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
                    connection.Items[ConnectionChannel.PeerKey] = socket is null ? null : PeerCredentials.Read(socket);
                    connection.Items[ConnectionChannel.DriverKey] = true;
                    return next(connection);
                }));
            }

            if (options.SecretsEngineSocket is { } secretsEngineSocket)
            {
                kestrel.ListenUnixSocket(secretsEngineSocket, listen => listen.Use(next => connection =>
                {
                    var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
                    connection.Items[ConnectionChannel.PeerKey] = socket is null ? null : PeerCredentials.Read(socket);
                    connection.Items[ConnectionChannel.SecretsEngineKey] = true;
                    return next(connection);
                }));
            }

            kestrel.Listen(options.ApiEndpoint);
        });
        ConfigureLogging(builder.Logging, options);
        AddServices(builder.Services, loaded, options, variable, store, state, authorizer, endpoint, time);

        var app = builder.Build();
        app.UseChannelGate();
        app.MapAgentEndpoints();
        app.Services.GetRequiredService<ProjectRegistry>().Load();
        return app;
    }

    /// <summary>Starts the application and serves until shutdown.</summary>
    public static async Task<int> RunAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await StartAsync(app, cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>Starts listening (the socket never wider than 0660, even briefly) and the background services.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var options = app.Services.GetRequiredService<AgentOptions>();
        var authorizer = app.Services.GetRequiredService<PeerAuthorizer>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dso.Agent");

        // The sockets are created by bind(2); with this umask they are 0600 from the start (the IPC
        // socket and the Secrets Engine resolver's are opened to their group by Secure below; the secret driver's stays root's).
        var previousUmask = UnixFiles.SetUmask(Convert.ToUInt32("177", 8));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        finally
        {
            UnixFiles.SetUmask(previousUmask);
        }

        if (AgentSocket.Secure(options.SocketPath, authorizer) is { } warning)
        {
            log.LogWarning("{Warning}", warning);
        }

        if (options.SecretsEngineSocket is { } secretsEngineSocket)
        {
            // The same peers as the IPC socket: root and the socket group.
            if (AgentSocket.Secure(secretsEngineSocket, authorizer) is { } engineWarning)
            {
                log.LogWarning("{Warning}", engineWarning);
            }

            log.LogInformation("serving the Docker Secrets Engine resolver API on {Socket}", secretsEngineSocket);
        }

        if (options.SecretDriverSocket is { } driverSocket)
        {
            log.LogInformation("serving the Swarm secret driver {Driver} on {Socket}", options.SecretDriverName, driverSocket);
        }

        log.LogInformation("listening on {Socket} (IPC) and http://{Api} (REST); state in {State}", options.SocketPath, options.ApiAddress, options.StateDirectory);
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            var notifier = new SystemdNotifier();
            if (notifier.IsEnabled)
            {
                notifier.Notify(Microsoft.Extensions.Hosting.Systemd.ServiceState.Stopping);
            }
        });
    }

    private static void ConfigureLogging(ILoggingBuilder logging, AgentOptions options)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(options.LogLevel switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        logging.AddConsole(console => console.FormatterName = DsoConsoleFormatter.Name);
        // Registered by hand rather than with AddConsoleFormatter, which also binds the formatter's
        // options from IConfiguration by reflection: the agent's options come from dso.yaml only.
        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, DsoConsoleFormatter>());
        logging.Services.Configure<DsoConsoleFormatterOptions>(formatter => formatter.Json = options.LogFormat == "json");
    }

    private static void AddServices(
        IServiceCollection services,
        LoadedConfig loaded,
        AgentOptions options,
        Func<string, string?> variable,
        Injection.Secrets.SecretStore store,
        StateStore state,
        PeerAuthorizer authorizer,
        EngineEndpoint endpoint,
        TimeProvider time)
    {
        var config = loaded.Config;
        services.AddSingleton(options);
        services.AddSingleton(new LiveConfig(loaded, time));
        services.AddSingleton(new ConfigSource(variable, Environment.CurrentDirectory));
        services.AddSingleton(ProxyOptions.From(config.Proxy));
        services.AddSingleton(time);
        services.AddSingleton(store);
        services.AddSingleton(state);
        services.AddSingleton(authorizer);
        services.AddSingleton<SecretRedactor>();
        services.AddSingleton(_ => new DsoMetrics(StatusReporter.Version));
        services.AddSingleton(_ => new SecretCache(time, options.CacheTtl, options.CacheEnabled));
        services.AddSingleton<VersionLedger>();
        services.AddSingleton(s =>
        {
            var book = new ProviderHealthBook(s.GetRequiredService<TimeProvider>(), s.GetRequiredService<DsoMetrics>());
            book.CircuitChanged += s.GetRequiredService<AgentNotifier>().NotifyCircuit;
            return book;
        });
        services.AddSingleton(s => new AgentProviders(config, variable, s.GetRequiredService<SecretCache>(), s.GetRequiredService<ProviderHealthBook>(), s.GetRequiredService<DsoMetrics>(), s.GetRequiredService<SecretRedactor>(), s.GetRequiredService<VersionLedger>(), s.GetRequiredService<ILoggerFactory>().CreateLogger("Providers")));
        services.AddSingleton(_ => FingerprintKey.LoadOrCreate(options.StateDirectory));
        services.AddSingleton<EventHub>();
        services.AddSingleton(s => new AuditLog(options.AuditPath, s.GetRequiredService<SecretRedactor>(), time));
        services.AddSingleton<ProjectLocks>();
        services.AddSingleton<ProjectRegistry>();
        services.AddSingleton<ContainerBook>();
        services.AddSingleton<AgentRuntime>();
        services.AddSingleton<StatusReporter>();
        services.AddSingleton<ReconcileSignal>();
        services.AddSingleton(_ => new WebhookVerifier(options.WebhookSecret, options.WebhookRatePerMinute, time));
        services.AddSingleton(_ => new DockerClientBuilder().WithEndpoint(new Uri(endpoint.Host)).Build());
        services.AddSingleton<KernelForwarding>();
        services.AddSingleton<TcpProxy>();
        services.AddSingleton(_ => new Injection.Swarm.SwarmEngine(endpoint));
        services.AddSingleton<Swarm.DriverVersions>();
        services.AddSingleton<Swarm.SwarmStacks>();
        services.AddSingleton<Swarm.SecretDriver>();
        services.AddSingleton<SecretsEngine.SecretsEngineResolver>();
        services.AddSingleton<EngineContainers>();
        services.AddSingleton<HealthGate>();
        services.AddSingleton<RotationJournal>();
        services.AddSingleton<SwapDrains>();
        services.AddSingleton<ContainerSwap>();
        services.AddSingleton<RotationBook>();
        services.AddSingleton<AgentNotifier>();
        services.AddSingleton<RotationResults>();
        services.AddSingleton<ServiceCommits>();
        services.AddSingleton<IRotationStrategy, NoneStrategy>();
        services.AddSingleton<IRotationStrategy, LiveStrategy>();
        services.AddSingleton<IRotationStrategy, SignalStrategy>();
        services.AddSingleton<IRotationStrategy>(s => ActivatorUtilities.CreateInstance<SwapStrategy>(s, SwapPhases.Restart));
        services.AddSingleton<IRotationStrategy>(s => ActivatorUtilities.CreateInstance<SwapStrategy>(s, SwapPhases.Rolling));
        services.AddSingleton<IRotationStrategy, SwarmUpdateStrategy>();
        services.AddSingleton<RotationStrategies>();
        services.AddSingleton<ServiceRotator>();
        services.AddSingleton<SwapRecovery>();
        services.AddSingleton<RotationRequests>();
        services.AddSingleton<RotationQueue>();
        services.AddSingleton<ChangeDetector>();
        services.AddSingleton<DockerWatcher>();
        services.AddSingleton<ConfigReloader>();
        // Stopped last (hosted services stop in reverse): the rotations have ended, then the drains finish at once.
        services.AddHostedService(s => s.GetRequiredService<SwapDrains>());
        services.AddHostedService<Reconciler>();
        services.AddHostedService(s => s.GetRequiredService<DockerWatcher>());
        services.AddHostedService(s => s.GetRequiredService<RotationQueue>());
        services.AddHostedService(s => s.GetRequiredService<ChangeDetector>());
        services.AddHostedService(s => s.GetRequiredService<ConfigReloader>());
    }
}
