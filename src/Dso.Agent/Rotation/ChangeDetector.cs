using Dso.Agent.Events;
using Dso.Agent.Hosting;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Secrets;
using Dso.Agent.State;
using Dso.Injection.Planning;
using Dso.Providers;
using Dso.Secrets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// Notices changes (spec 5): every secret a managed service consumes is checked with its provider's
/// cheapest version call (providers without one are read, and the value's HMAC under the agent's
/// key serves as version). A secret that keeps not changing is checked less often, up to
/// backoff_limit times the polling interval, each check moved by a random jitter. Webhooks, file
/// watches (the local vault, `file` providers) and `rotate` check at once. The versions seen persist
/// in the state directory, so a restart reads no value that did not change. A changed version hands
/// the services that consume it to the queue, which rotates only if their consumed fingerprint moved.
/// </summary>
internal sealed partial class ChangeDetector(
    ProjectRegistry projects,
    AgentProviders providers,
    RotationRequests requests,
    StateStore state,
    FingerprintKey fingerprints,
    AgentRuntime runtime,
    DsoMetrics metrics,
    EventHub events,
    TimeProvider time,
    ProviderHealthBook health,
    SecretRedactor redactor,
    VersionLedger ledger,
    ILogger<ChangeDetector> log) : BackgroundService
{
    private readonly Lock _gate = new();
    private readonly Dictionary<SecretKey, SecretWatch> _watches = [];
    private readonly Dictionary<SecretKey, (string Trigger, DateTimeOffset? ChangedAt)> _forced = [];
    private const string AllProviders = "";
    private readonly Dictionary<string, (string Trigger, DateTimeOffset? ChangedAt)> _forcedProviders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileSystemWatcher?> _fileWatchers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private Dictionary<string, string> _versions = new(StringComparer.Ordinal);

    private Dso.Configuration.WatchConfig Watch => runtime.Options.Watch;

    private PollSchedule Schedule => new(Watch);

    /// <summary>What status shows per secret: the version last seen and the last and next check.</summary>
    public IReadOnlyDictionary<SecretKey, SecretWatch> Snapshot()
    {
        lock (_gate)
        {
            return new Dictionary<SecretKey, SecretWatch>(_watches);
        }
    }

    /// <summary>The key a reference is watched under (null for a pinned version).</summary>
    public SecretKey? KeyOf(SecretReference reference) =>
        reference.Version is null && (reference.Provider ?? providers.Base.DefaultName) is { } provider ? new SecretKey(provider, reference.Path) : null;

    /// <summary>Checks every secret of <paramref name="provider"/> (all providers when null) as soon as possible.</summary>
    public void CheckNow(string? provider, string trigger, DateTimeOffset? changedAt = null)
    {
        // Kept per provider until the next pass applies it, so a notice that arrives before the pass
        // has created the watches of a just-registered project still checks them.
        lock (_gate)
        {
            _forcedProviders[provider ?? AllProviders] = (trigger, changedAt);
        }

        _wake.Release();
    }

    /// <summary>
    /// After a reload of dso.yaml: the file watches are set up again on the new providers, and
    /// every consumed secret is checked at once. The secrets of <paramref name="changed"/> providers
    /// are checked as if seen for the first time — the versions recorded came from the old settings
    /// (another server may number its versions alike) — so their consumers are compared with their
    /// baselines and rotate when their values moved.
    /// </summary>
    public void ProvidersReloaded(IReadOnlySet<string> changed)
    {
        lock (_gate)
        {
            foreach (var watcher in _fileWatchers.Values)
            {
                watcher?.Dispose();
            }

            _fileWatchers.Clear();
            foreach (var key in _watches.Keys.Where(k => changed.Contains(k.Provider)).ToList())
            {
                _watches[key] = _watches[key] with { Version = null };
                _versions.Remove(key.ToString());
                ledger.Unknown(key.Provider, key.Path);
            }
        }

        CheckNow(null, "config");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await runtime.Ready.WaitAsync(stoppingToken);
        _versions = state.LoadVersions();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PassAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogPassFailed(e.Message);
            }

            try
            {
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(250), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        lock (_gate)
        {
            foreach (var watcher in _fileWatchers.Values)
            {
                watcher?.Dispose();
            }
        }
    }

    private async Task PassAsync(CancellationToken cancellationToken)
    {
        var consumers = Consumers();
        var now = time.GetUtcNow();
        var polling = Watch.Mode == "polling";
        List<(SecretKey Key, string Trigger, DateTimeOffset? ChangedAt)> due;
        lock (_gate)
        {
            foreach (var gone in _watches.Keys.Where(k => !consumers.ContainsKey(k)).ToList())
            {
                _watches.Remove(gone);
                _forced.Remove(gone);
            }

            foreach (var key in consumers.Keys.Where(k => !_watches.ContainsKey(k)))
            {
                _watches[key] = new SecretWatch(_versions.GetValueOrDefault(key.ToString()), null, now, 1);
            }

            foreach (var (provider, force) in _forcedProviders)
            {
                foreach (var key in _watches.Keys.Where(k => provider == AllProviders || k.Provider == provider))
                {
                    _forced[key] = force;
                }
            }

            _forcedProviders.Clear();

            due = [.. _watches.Where(w => _forced.ContainsKey(w.Key) || (polling && w.Value.NextCheck <= now))
                .Select(w => (w.Key, _forced.TryGetValue(w.Key, out var forced) ? forced.Trigger : "poll", _forced.TryGetValue(w.Key, out var f) ? f.ChangedAt : null))];
            foreach (var item in due)
            {
                _forced.Remove(item.Key);
            }
        }

        if (Watch.Mode != "off" && Watch.WatchFiles)
        {
            foreach (var provider in consumers.Keys.Select(k => k.Provider).Distinct())
            {
                EnsureFileWatch(provider);
            }
        }

        var changedVersions = false;
        foreach (var group in due.GroupBy(d => d.Key.Provider, StringComparer.Ordinal))
        {
            var items = group.ToList();
            var versions = await VersionsAsync(group.Key, [.. items.Select(i => i.Key)], cancellationToken);
            for (var i = 0; i < items.Count; i++)
            {
                var (key, trigger, changedAt) = items[i];
                var answer = versions[i];
                changedVersions |= Record(key, answer, trigger, answer.ChangedAt ?? changedAt, consumers[key]);
            }
        }

        if (changedVersions)
        {
            lock (_gate)
            {
                state.SaveVersions(_versions);
            }
        }
    }

    /// <summary>Records one answer; returns true when the version moved (and hands the consumers to the queue).</summary>
    private bool Record(SecretKey key, SecretVersion answer, string trigger, DateTimeOffset? changedAt, IReadOnlyList<(string Project, string Service)> consumers)
    {
        var now = time.GetUtcNow();
        bool changed;
        var firstSight = false;
        lock (_gate)
        {
            if (!_watches.TryGetValue(key, out var watch))
            {
                return false;
            }

            if (answer.Version is null)
            {
                metrics.SecretChecks.WithLabels(key.Provider, "error").Inc();
                _watches[key] = watch with { LastCheck = now, NextCheck = Schedule.Next(now, 1) };
                ledger.Unknown(key.Provider, key.Path);

                // A secret that vanished is a change too: the rotation that follows fails closed and says why.
                changed = !answer.Transient && watch.Version is not null && watch.Version != "(missing)";
                if (changed)
                {
                    _watches[key] = _watches[key] with { Version = "(missing)" };
                    _versions[key.ToString()] = "(missing)";
                }
            }
            else
            {
                changed = watch.Version != answer.Version;
                firstSight = watch.Version is null;
                var factor = Schedule.FactorAfter(changed, watch.Factor);
                _watches[key] = new SecretWatch(answer.Version, now, Schedule.Next(now, factor), factor);
                _versions[key.ToString()] = answer.Version;
                metrics.SecretChecks.WithLabels(key.Provider, changed ? "changed" : "unchanged").Inc();
                if (changed)
                {
                    ledger.Moved(key.Provider, key.Path, now);
                }
                else
                {
                    ledger.Confirmed(key.Provider, key.Path, now);
                }
            }
        }

        if (changed)
        {
            // A secret seen for the first time (new registration, no versions.json yet) is compared
            // once against the baselines, which rotates nothing when its consumers are up to date.
            if (!firstSight)
            {
                events.Publish("secret.changed", null, null, $"{key} has a new version ({trigger}); {consumers.Count} service(s) consume it");
                LogChanged(key.ToString(), trigger, string.Join(", ", consumers.Select(c => $"{c.Project}/{c.Service}")));
            }

            requests.Post(new DetectedChange(consumers, new RotationTrigger(trigger, "agent", changedAt), Immediate: firstSight, Changed: firstSight ? null : VariablesOf(key, consumers)));
        }

        return changed && answer.Version is not null;
    }

    private async Task<IReadOnlyList<SecretVersion>> VersionsAsync(string provider, IReadOnlyList<SecretKey> keys, CancellationToken cancellationToken)
    {
        var requests = keys.Select(k => new SecretRequest(k.Path, null)).ToList();
        try
        {
            if (providers.Base.Get(provider) is IVersionedProvider { CanCheckVersions: true } versioned)
            {
                // Version checks go straight to the provider (values go through the cache, which records its health).
                var checks = await versioned.VersionsAsync(requests, cancellationToken);
                health.Record(provider, checks.Count > 0 && checks.All(a => a.Transient) ? redactor.Redact(checks[0].Error ?? "version check failed") : null);
                return checks;
            }

            // No cheap version call: read the values (through the cache, which also keeps the last
            // known good) and take an HMAC of each under the agent's key as its version.
            var answers = await providers.Fresh.Get(provider).ResolveAsync(requests, cancellationToken);
            var versions = new List<SecretVersion>(answers.Count);
            foreach (var (answer, key) in answers.Zip(keys))
            {
                using (answer.Value)
                {
                    versions.Add(answer.Value is { } value
                        ? new SecretVersion("h:" + fingerprints.Fingerprint(key.ToString(), value.Reveal()), null)
                        : new SecretVersion(null, null, answer.Error, answer.Transient));
                }
            }

            return versions;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return [.. keys.Select(_ => new SecretVersion(null, null, e.Message, Transient: true))];
        }
    }

    /// <summary>Per consumer, its variables whose references read <paramref name="key"/> (a per-secret strategy applies to a change of them).</summary>
    private Dictionary<(string Project, string Service), IReadOnlySet<string>> VariablesOf(SecretKey key, IReadOnlyList<(string Project, string Service)> consumers)
    {
        var result = new Dictionary<(string Project, string Service), IReadOnlySet<string>>();
        foreach (var (project, service) in consumers)
        {
            var registration = projects.TryGet(project)?.Registration.Services.FirstOrDefault(s => s.Name == service);
            result[(project, service)] = registration is null ? [] : RegistrationRules.Parsed(registration)
                .Where(r => r.Parsed is { } parsed && KeyOf(parsed) == key)
                .Select(r => r.Registration.Variable).ToHashSet(StringComparer.Ordinal);
        }

        return result;
    }

    /// <summary>Every watched secret and the services that consume it.</summary>
    private Dictionary<SecretKey, IReadOnlyList<(string Project, string Service)>> Consumers()
    {
        var consumers = new Dictionary<SecretKey, List<(string, string)>>();
        foreach (var project in projects.Snapshot())
        {
            foreach (var service in project.Registration.Services)
            {
                foreach (var (_, parsed) in RegistrationRules.Parsed(service))
                {
                    if (parsed is not null && KeyOf(parsed) is { } key)
                    {
                        if (!consumers.TryGetValue(key, out var list))
                        {
                            consumers[key] = list = [];
                        }

                        if (!list.Contains((project.Name, service.Name)))
                        {
                            list.Add((project.Name, service.Name));
                        }
                    }
                }
            }
        }

        return consumers.ToDictionary(c => c.Key, c => (IReadOnlyList<(string, string)>)c.Value);
    }

    private void EnsureFileWatch(string provider)
    {
        lock (_gate)
        {
            if (_fileWatchers.ContainsKey(provider))
            {
                return;
            }

            _fileWatchers[provider] = null;
        }

        try
        {
            if (providers.Base.Get(provider) is not IWatchableProvider watchable)
            {
                return;
            }

            var file = Path.GetFullPath(watchable.WatchedFile);
            var watcher = new FileSystemWatcher(Path.GetDirectoryName(file)!, Path.GetFileName(file))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            void Changed(object sender, FileSystemEventArgs e) => CheckNow(provider, "file", time.GetUtcNow());
            watcher.Changed += Changed;
            watcher.Created += Changed;
            watcher.Renamed += (sender, e) => Changed(sender, e);
            watcher.EnableRaisingEvents = true;
            lock (_gate)
            {
                _fileWatchers[provider] = watcher;
            }

            LogWatching(provider, file);
        }
        catch (Exception e) when (e is DsoException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            LogWatchFailed(provider, e.Message);
        }
    }

    [LoggerMessage(EventId = 440, Level = LogLevel.Information, Message = "{Secret} changed ({Trigger}); consumers: {Consumers}")]
    private partial void LogChanged(string secret, string trigger, string consumers);

    [LoggerMessage(EventId = 441, Level = LogLevel.Warning, Message = "change detection pass failed: {Error}")]
    private partial void LogPassFailed(string error);

    [LoggerMessage(EventId = 442, Level = LogLevel.Information, Message = "watching {File} for changes of provider {Provider}")]
    private partial void LogWatching(string provider, string file);

    [LoggerMessage(EventId = 443, Level = LogLevel.Warning, Message = "cannot watch the file of provider {Provider}: {Error}; polling only")]
    private partial void LogWatchFailed(string provider, string error);
}
