using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Dso.Agent.Events;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Rotation;
using Dso.Agent.Secrets;
using Dso.Configuration;
using Dso.Secrets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Hosting;

/// <summary>
/// Re-reads dso.yaml when it changes (checked every second; applied once two reads agree, so a
/// file caught mid-write waits) and on SIGHUP (`systemctl reload dso-agent`). A new file is loaded
/// and checked as at start-up, and refused whole — the agent keeps the last good configuration and
/// says why — when it is invalid or drops a provider a managed project still uses. An applied
/// reload swaps the providers (values of a provider whose settings changed leave the cache), the
/// rotation settings, notifications and `agent.watch`, then checks every consumed secret at once.
/// Settings the agent binds at start (socket, API, directories, cache, logging, audit, proxy
/// timeouts, intervals) are named in a warning: they apply at the next restart.
/// </summary>
internal sealed partial class ConfigReloader(
    LiveConfig config,
    ConfigSource source,
    AgentProviders providers,
    SecretCache cache,
    ProjectRegistry projects,
    ChangeDetector detector,
    AgentRuntime runtime,
    DsoMetrics metrics,
    EventHub events,
    AuditLog audit,
    ILogger<ConfigReloader> log) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Settings read once at start, by the key dso.yaml spells them with.</summary>
    private static readonly (string Key, Func<AgentOptions, DsoConfig, object?> Read)[] RestartOnly =
    [
        ("agent.socket", (o, _) => o.SocketPath),
        ("agent.socket_group", (o, _) => o.SocketGroup),
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
    ];

    private readonly SemaphoreSlim _signal = new(0);
    private byte[]? _seen;
    private byte[]? _settling;

    /// <summary>Reloads at once (SIGHUP, or a caller that changed the file).</summary>
    public void Request() => _signal.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            // Handled: the default action of SIGHUP would end the agent.
            context.Cancel = true;
            Request();
        });
        _seen = config.Path is { } path ? Read(path).Hash : null;
        while (!stoppingToken.IsCancellationRequested)
        {
            bool signalled;
            try
            {
                signalled = await _signal.WaitAsync(PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                if (signalled)
                {
                    Reload("signal");
                }
                else if (FileChanged())
                {
                    Reload("file");
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Never let a reload end the agent: the configuration in use stays.
                Refuse("file", e.Message);
            }
        }
    }

    /// <summary>True once the file differs from what was last loaded and two reads a second apart agree.</summary>
    private bool FileChanged()
    {
        if (config.Path is not { } path)
        {
            return false;
        }

        var now = Read(path).Hash;
        if (now.AsSpan().SequenceEqual(_seen))
        {
            _settling = null;
            return false;
        }

        if (_settling is not null && now.AsSpan().SequenceEqual(_settling))
        {
            _settling = null;
            return true;
        }

        _settling = now;
        return false;
    }

    /// <summary>Loads, checks and applies dso.yaml; a refusal keeps the configuration in use.</summary>
    internal void Reload(string trigger)
    {
        LoadedConfig next;
        AgentOptions options;
        AgentProviders.Generation generation;
        try
        {
            if (config.Path is { } path)
            {
                var (text, hash) = Read(path);
                _seen = hash;
                next = text is null ? throw new DsoException($"cannot read {path}: it is gone or unreadable") : ConfigLoader.Parse(path, text, source.Variable);
            }
            else
            {
                next = ConfigLoader.Load(null, source.Variable, source.WorkingDirectory);
            }

            options = AgentOptions.From(next);
            CheckProjects(next.Config);
            generation = providers.Build(next.Config);
        }
        catch (DsoException e)
        {
            Refuse(trigger, e.Message);
            return;
        }

        var before = config.Current;
        var beforeOptions = runtime.Options;
        var changedProviders = ChangedProviders(before, next.Config);
        providers.Swap(generation, next.Config);
        foreach (var provider in changedProviders)
        {
            cache.Evict(provider);
        }

        config.Applied(next);
        runtime.Apply(beforeOptions with { Watch = options.Watch });
        detector.ProvidersReloaded();

        var where = next.Path ?? "defaults";
        metrics.ConfigReloads.WithLabels(trigger, "applied").Inc();
        metrics.ConfigLastReloadSuccessful.Set(1);
        metrics.ConfigLoadedAt.Set(config.LoadedAt.ToUnixTimeMilliseconds() / 1000.0);
        var detail = changedProviders.Count == 0 ? "no provider changed" : $"provider(s) changed: {string.Join(", ", changedProviders)}";
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
    }

    private void Refuse(string trigger, string error)
    {
        var message = DsoException.OneLine(error);
        config.Refused(message);
        metrics.ConfigReloads.WithLabels(trigger, "failed").Inc();
        metrics.ConfigLastReloadSuccessful.Set(0);
        LogRefused(config.Path ?? "dso.yaml", trigger, message);
        events.Publish("config.reload_failed", null, null, $"reload refused ({trigger}): {message}; the last good configuration stays in use");
        audit.Write(trigger, "config.reload", config.Path ?? "defaults", "refused", message);
    }

    /// <summary>A managed project must keep every provider it uses.</summary>
    private void CheckProjects(DsoConfig next)
    {
        var names = new HashSet<string>(next.Providers.Keys, StringComparer.Ordinal) { "local" };
        var defaultName = ConfigLoader.DefaultProvider(next);
        foreach (var project in projects.Snapshot())
        {
            foreach (var service in project.Registration.Services)
            {
                foreach (var reference in service.References)
                {
                    if (SecretReference.TryParse(reference.Reference, out var parsed, out _) && (parsed.Provider ?? defaultName) is { } provider && !names.Contains(provider))
                    {
                        throw new DsoException(
                            $"project '{project.Name}' (service '{service.Name}', {reference.Variable}) uses provider '{provider}', which the new dso.yaml does not define; " +
                            $"keep it, or take the project down first ('docker dso down')");
                    }
                }
            }
        }
    }

    /// <summary>Providers whose settings differ (credentials compared as set or not; their values never change what a path means).</summary>
    private static List<string> ChangedProviders(DsoConfig before, DsoConfig next)
    {
        var old = ConfigPrinter.Tree(before);
        var now = ConfigPrinter.Tree(next);
        var oldProviders = old.GetValueOrDefault("providers") as System.Collections.IDictionary;
        var newProviders = now.GetValueOrDefault("providers") as System.Collections.IDictionary;
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var map in new[] { oldProviders, newProviders })
        {
            foreach (var key in map?.Keys.Cast<string>() ?? [])
            {
                names.Add(key);
            }
        }

        return [.. names.Where(n => Flat(oldProviders?[n]) != Flat(newProviders?[n]))];
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
}

/// <summary>Where the agent's dso.yaml is read from again: the environment (for `${VAR}`) and the directory it started in.</summary>
internal sealed record ConfigSource(Func<string, string?> Variable, string WorkingDirectory);
