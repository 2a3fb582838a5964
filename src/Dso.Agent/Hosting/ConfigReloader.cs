using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Dso.Agent.Events;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Rotation;
using Dso.Agent.Secrets;
using Dso.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Hosting;

/// <summary>
/// Re-reads dso.yaml when it changes (checked every second; applied once two reads agree, so a
/// file caught mid-write waits) and on SIGHUP (`systemctl reload dso-agent`). A new file is loaded
/// and checked as at start-up, and refused whole — the agent keeps the last good configuration and
/// says why — when it is invalid or drops a provider a managed project still uses. An applied
/// reload swaps the providers (values of a provider whose settings changed are cached apart), the
/// rotation settings, notifications and `agent.watch`, then checks every consumed secret at once.
/// Settings the agent binds at start (socket, API, directories, cache, logging, audit, proxy
/// timeouts, intervals) are named in a warning: they apply at the next restart.
/// </summary>
internal sealed partial class ConfigReloader(
    LiveConfig config,
    ConfigSource source,
    AgentProviders providers,
    ProjectRegistry projects,
    ChangeDetector detector,
    AgentRuntime runtime,
    DsoMetrics metrics,
    EventHub events,
    AuditLog audit,
    SecretRedactor redactor,
    ILogger<ConfigReloader> log) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Settings read once at start, by the key dso.yaml spells them with.</summary>
    private static readonly (string Key, Func<AgentOptions, DsoConfig, object?> Read)[] RestartOnly =
    [
        ("agent.socket", (o, _) => o.SocketPath),
        ("agent.socket_group", (o, _) => o.SocketGroup),
        ("agent.secret_driver.socket", (o, _) => o.SecretDriverSocket),
        ("agent.secrets_engine.socket", (o, _) => o.SecretsEngineSocket),
        ("agent.api.address", (o, _) => o.ApiAddress),
        ("agent.api.token", (o, _) => o.ApiToken),
        ("agent.api.webhook_secret", (o, _) => o.WebhookSecret),
        ("agent.api.webhook_rate", (o, _) => o.WebhookRatePerMinute),
        ("agent.state_dir", (o, _) => o.StateDirectory),
        ("agent.secrets_dir", (o, _) => o.SecretsDirectory),
        ("agent.reconcile_interval", (o, _) => o.ReconcileInterval),
        ("agent.check_interval", (o, _) => o.CheckInterval),
        ("agent.cache", (o, _) => o.CacheEnabled),
        ("agent.cache_ttl", (o, _) => o.CacheTtl),
        ("agent.debounce", (o, _) => o.Debounce),
        ("agent.max_concurrent_rotations", (o, _) => o.MaxConcurrentRotations),
        ("logging.level", (o, _) => o.LogLevel),
        ("logging.format", (o, _) => o.LogFormat),
        ("audit", (o, _) => o.AuditPath),
        ("proxy.connect_timeout", (_, c) => c.Proxy.ConnectTimeout),
        ("proxy.backend_wait", (_, c) => c.Proxy.BackendWait),
        ("proxy.forwarding", (_, c) => c.Proxy.Forwarding),
    ];

    private readonly SemaphoreSlim _signal = new(0);
    private PosixSignalRegistration? _hangup;
    private byte[]? _seen;
    private byte[]? _settling;

    /// <summary>Reloads at once (SIGHUP, or a caller that changed the file).</summary>
    public void Request() => _signal.Release();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Kept until the agent is disposed, past the hosted services' stop: the default action of
        // SIGHUP would end the agent, even while it shuts down.
        metrics.ConfigLoadedAt.Set(config.LoadedAt.ToUnixTimeMilliseconds() / 1000.0);
        _hangup ??= PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Request();
        });
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _hangup?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // What was loaded at start counts as seen: an edit made since then is applied at once.
        _seen = config.AppliedHash;
        while (!stoppingToken.IsCancellationRequested)
        {
            bool signalled;
            try
            {
                signalled = await _signal.WaitAsync(PollInterval, stoppingToken);
                // Several signals at once are one reload.
                while (signalled && _signal.CurrentCount > 0 && _signal.Wait(0, CancellationToken.None))
                {
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                if (signalled)
                {
                    Reload("signal", settled: null);
                }
                else if (FileChanged() is { } settled)
                {
                    Reload("file", settled);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Never let a reload end the agent: the configuration in use stays.
                Refuse(signalled ? "signal" : "file", e.Message);
            }
        }
    }

    /// <summary>The hash of the file once it differs from what was last read and two reads a second apart agree; else null.</summary>
    private byte[]? FileChanged()
    {
        if (config.Path is not { } path)
        {
            return null;
        }

        var now = Read(path).Hash;
        if (now.AsSpan().SequenceEqual(_seen))
        {
            _settling = null;
            return null;
        }

        if (_settling is not null && now.AsSpan().SequenceEqual(_settling))
        {
            _settling = null;
            return now;
        }

        _settling = now;
        return null;
    }

    /// <summary>
    /// Loads, checks and applies dso.yaml; a refusal keeps the configuration in use. A file trigger
    /// applies only the bytes that settled (<paramref name="settled"/>); a signal applies what is
    /// there, and counts as applied without rebuilding anything when it is what is in use.
    /// </summary>
    internal void Reload(string trigger, byte[]? settled)
    {
        LoadedConfig next;
        AgentOptions options;
        byte[]? hash = null;
        try
        {
            if (config.Path is { } path)
            {
                var (text, read) = Read(path);
                if (settled is not null && !read.AsSpan().SequenceEqual(settled))
                {
                    return; // Changed again since it settled: the next checks see it.
                }

                _seen = hash = read;
                if (ConfigFileSafety.Problem(path) is { } unsafeFile)
                {
                    throw new DsoException(unsafeFile);
                }

                next = text is null ? throw new DsoException($"cannot read {path}: it is gone or unreadable") : ConfigLoader.Parse(path, text, source.Variable);
            }
            else
            {
                next = ConfigLoader.Load(null, source.Variable, source.WorkingDirectory);
            }

            options = AgentOptions.From(next);
        }
        catch (DsoException e)
        {
            Refuse(trigger, e.Message);
            return;
        }

        var where = next.Path ?? "defaults";
        if (hash is not null && config.AppliedHash is { } applied && hash.AsSpan().SequenceEqual(applied) && config.LastError is null)
        {
            config.Confirmed();
            metrics.ConfigReloads.WithLabels(trigger, "applied").Inc();
            LogApplied(where, trigger, "unchanged");
            return;
        }

        var before = config.Current;
        var beforeOptions = runtime.Options;
        var changedProviders = ChangedProviders(before, next.Config);
        var generation = providers.Build(next.Config, changedProviders);
        lock (projects.CommitGate)
        {
            // Checked under the gate registrations commit under: no project can start using a
            // provider between this check and the swap.
            if (CheckProjects(next.Config) is { } refusal)
            {
                generation.Dispose();
                Refuse(trigger, refusal);
                return;
            }

            providers.Swap(generation, next.Config);
            config.Applied(next, hash);
        }

        runtime.Apply(beforeOptions with { Watch = options.Watch });
        detector.ProvidersReloaded(changedProviders);

        metrics.ConfigReloads.WithLabels(trigger, "applied").Inc();
        metrics.ConfigLastReloadSuccessful.Set(1);
        metrics.ConfigLoadedAt.Set(config.LoadedAt.ToUnixTimeMilliseconds() / 1000.0);
        var detail = changedProviders.Count == 0 ? "no provider changed" : $"provider(s) changed: {string.Join(", ", changedProviders.Order(StringComparer.Ordinal))}";
        LogApplied(where, trigger, detail);
        events.Publish("config.reloaded", null, null, $"{where} reloaded ({trigger}); {detail}");
        audit.Write(trigger, "config.reload", where, "applied", detail);

        var restart = RestartOnly.Where(s => !Equals(s.Read(beforeOptions, before), s.Read(options, next.Config))).Select(s => s.Key).ToList();
        if (restart.Count > 0)
        {
            LogNeedsRestart(string.Join(", ", restart));
        }

        var moved = ProxyMoves(before, next.Config);
        if (moved.Count > 0)
        {
            LogProxyMoves(string.Join(", ", moved));
        }

        if (ConfigLoader.DefaultProvider(before) is { } oldDefault && ConfigLoader.DefaultProvider(next.Config) is { } newDefault && oldDefault != newDefault)
        {
            LogDefaultMoved(oldDefault, newDefault);
        }
    }

    private void Refuse(string trigger, string error)
    {
        // A message about a bad value may quote it: the redactor masks credential-shaped text and
        // every value the agent holds.
        var message = redactor.Redact(DsoException.OneLine(error));
        config.Refused(message);
        metrics.ConfigReloads.WithLabels(trigger, "failed").Inc();
        metrics.ConfigLastReloadSuccessful.Set(0);
        LogRefused(config.Path ?? "dso.yaml", trigger, message);
        events.Publish("config.reload_failed", null, null, $"reload refused ({trigger}): {message}; the last good configuration stays in use");
        audit.Write(trigger, "config.reload", config.Path ?? "defaults", "refused", message);
    }

    /// <summary>Why <paramref name="next"/> cannot serve the managed projects (a provider one uses is gone), or null.</summary>
    private string? CheckProjects(DsoConfig next)
    {
        var names = new HashSet<string>(next.Providers.Keys, StringComparer.Ordinal) { "local" };
        var defaultName = ConfigLoader.DefaultProvider(next);
        foreach (var project in projects.Snapshot())
        {
            if (RegistrationRules.FirstMissingProvider(project.Registration.Services, names, defaultName) is { } missing)
            {
                return $"project '{project.Name}': {missing}; keep it, or take the project down first ('docker dso down')";
            }
        }

        return null;
    }

    /// <summary>
    /// Providers whose settings differ, credentials included (a changed `auth.params.address` or
    /// key points the same paths at other values), compared in memory and never printed.
    /// </summary>
    private static HashSet<string> ChangedProviders(DsoConfig before, DsoConfig next)
    {
        var oldProviders = ConfigPrinter.Tree(before).GetValueOrDefault("providers") as System.Collections.IDictionary;
        var newProviders = ConfigPrinter.Tree(next).GetValueOrDefault("providers") as System.Collections.IDictionary;
        string Settings(DsoConfig config, System.Collections.IDictionary? printed, string name) =>
            Flat(printed?[name]) + "|" + (config.Providers.TryGetValue(name, out var provider)
                ? string.Join("|", provider.Auth.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))
                : string.Empty);
        var names = new HashSet<string>(before.Providers.Keys.Concat(next.Providers.Keys), StringComparer.Ordinal);
        names.RemoveWhere(n => Settings(before, oldProviders, n) == Settings(next, newProviders, n));
        return names;
    }

    /// <summary>Services whose host ports would move to or from the proxy under <paramref name="next"/>; only `up` can move them.</summary>
    private List<string> ProxyMoves(DsoConfig before, DsoConfig next)
    {
        static string Ports(ServicePolicy policy) => string.Join(",", policy.ProxiedPorts.Select(p => p.ToString()));
        return [.. projects.Snapshot().Where(p => !p.Registration.IsSwarm)
            .SelectMany(p => p.Registration.Services.Select(s => (Project: p.Name, Service: s)))
            .Where(x => Ports(ServicePolicy.For(x.Service, before)) != Ports(ServicePolicy.For(x.Service, next)))
            .Select(x => $"{x.Project}/{x.Service.Name}")];
    }

    /// <summary>A printed configuration subtree as one comparable string.</summary>
    private static string Flat(object? node) => node switch
    {
        null => "null",
        System.Collections.IDictionary map => "{" + string.Join(",", map.Keys.Cast<object>().Select(k => $"{k}={Flat(map[k])}")) + "}",
        string text => text,
        System.Collections.IEnumerable list => "[" + string.Join(",", list.Cast<object?>().Select(Flat)) + "]",
        var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
    };

    /// <summary>The file's text and its hash (an unreadable or missing file hashes as empty, text null).</summary>
    private static (string? Text, byte[] Hash) Read(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            return (System.Text.Encoding.UTF8.GetString(bytes), SHA256.HashData(bytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, []);
        }
    }

    [LoggerMessage(EventId = 480, Level = LogLevel.Information, Message = "{Path} reloaded ({Trigger}); {Detail}")]
    private partial void LogApplied(string path, string trigger, string detail);

    [LoggerMessage(EventId = 481, Level = LogLevel.Error, Message = "{Path}: reload refused ({Trigger}): {Error}; the last good configuration stays in use")]
    private partial void LogRefused(string path, string trigger, string error);

    [LoggerMessage(EventId = 482, Level = LogLevel.Warning, Message = "changed in dso.yaml but bound at start: {Keys}; they apply when the agent restarts (docker dso system restart)")]
    private partial void LogNeedsRestart(string keys);

    [LoggerMessage(EventId = 483, Level = LogLevel.Warning, Message = "the new rotation settings move host ports of {Services} to or from the proxy; run 'docker dso up -d' for their projects to apply it")]
    private partial void LogProxyMoves(string services);

    [LoggerMessage(EventId = 484, Level = LogLevel.Warning, Message = "the default provider is now {New} (was {Old}): references that name no provider resolve through it, and services whose values differ there rotate")]
    private partial void LogDefaultMoved(string old, string @new);
}

/// <summary>Where the agent's dso.yaml is read from again: the environment (for `${VAR}`) and the directory it started in.</summary>
internal sealed record ConfigSource(Func<string, string?> Variable, string WorkingDirectory);
