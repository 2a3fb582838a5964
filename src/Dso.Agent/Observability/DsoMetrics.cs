using Prometheus;

namespace Dso.Agent.Observability;

/// <summary>
/// Every metric the agent exports, named dso_… and documented in docs/metrics.md with what moves
/// it. One registry per agent, so several agents can live in one test process.
/// </summary>
internal sealed class DsoMetrics
{
    public DsoMetrics(string version)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        factory.CreateGauge("dso_agent_info", "Always 1; the agent's version as a label.", "version").WithLabels(version).Set(1);
        IpcRequests = factory.CreateCounter("dso_ipc_requests_total", "IPC requests on the Unix socket, by route and HTTP status.", "route", "status");
        IpcDenied = factory.CreateCounter("dso_ipc_denied_total", "IPC connections refused because the peer is neither root nor in the socket group.");
        WebhookRequests = factory.CreateCounter("dso_webhook_requests_total", "Webhook requests, by provider and result (accepted, bad_signature, stale, replay, too_large, rate_limited, disabled, unknown_provider).", "provider", "result");
        ManagedProjects = factory.CreateGauge("dso_managed_projects", "Projects registered with the agent.");
        ManagedServices = factory.CreateGauge("dso_managed_services", "Services of registered projects that use secrets.");
        ManagedContainers = factory.CreateGauge("dso_managed_containers", "Running containers labelled dso.managed=true.");
        Materializations = factory.CreateCounter("dso_materializations_total", "Times a project's secrets were resolved and written, by trigger (register, repair, refresh, startup) and result (ok, failed).", "trigger", "result");
        ProviderCircuit = factory.CreateGauge("dso_provider_circuit_state", "1 for the state each provider's circuit breaker is in (closed, half-open, open), 0 for the others.", "provider", "state");
        ProviderRequests = factory.CreateCounter("dso_provider_requests_total", "Batches sent to a provider, by provider and result (ok, error).", "provider", "result");
        ProviderDuration = factory.CreateHistogram("dso_provider_request_duration_seconds", "Time a provider took to answer one batch.", new HistogramConfiguration
        {
            LabelNames = ["provider"],
            Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16),
        });
        CacheHits = factory.CreateCounter("dso_cache_hits_total", "Values served from the agent's cache while fresh.");
        CacheMisses = factory.CreateCounter("dso_cache_misses_total", "Values the cache could not serve fresh.");
        LastKnownGood = factory.CreateCounter("dso_cache_last_known_good_total", "Values served from the cache because their provider failed.");
        CacheEntries = factory.CreateGauge("dso_cache_entries", "Values held in the agent's cache.");
        DockerEvents = factory.CreateCounter("dso_docker_events_total", "Container events of managed containers seen by the agent, by action.", "action");
        Repairs = factory.CreateCounter("dso_repairs_total", "Services whose missing secrets the agent restored (after a reboot or a wipe).");
        ReconcileRuns = factory.CreateCounter("dso_reconcile_runs_total", "Full reconciliations of every registered project.");
        SecretChecks = factory.CreateCounter("dso_secret_checks_total", "Version checks of consumed secrets, by provider and result (unchanged, changed, error).", "provider", "result");
        Rotations = factory.CreateCounter("dso_rotations_total", "Rotations of a service, by strategy and result (rotated, failed, skipped).", "strategy", "result");
        RotationDuration = factory.CreateHistogram("dso_rotation_duration_seconds", "Time one rotation of one service took, from its start to its result.", new HistogramConfiguration
        {
            LabelNames = ["strategy"],
            Buckets = Histogram.ExponentialBuckets(0.01, 2, 14),
        });
        DetectionLatency = factory.CreateHistogram("dso_detection_latency_seconds", "Time from a secret's change in its provider (when the provider dates it) to the start of the rotation it caused, by trigger (poll, webhook, file, rotate).", new HistogramConfiguration
        {
            LabelNames = ["trigger"],
            Buckets = Histogram.ExponentialBuckets(0.01, 2, 14),
        });
        Draining = factory.CreateGauge("dso_draining_containers", "Old containers of rolling swaps draining in the background now (the service already serves from the new ones).");
        Drained = factory.CreateCounter("dso_drained_containers_total", "Old containers of rolling swaps stopped and removed after their drain.");
        RotationRecoveries = factory.CreateCounter("dso_rotation_recoveries_total", "Interrupted rotations found in the journal at start-up, by what recovery did (rolled_back, finished).", "action");
        ProxyConnections = factory.CreateCounter("dso_proxy_connections_total", "Client connections the proxy forwarded, by project, service and host port.", "project", "service", "port");
        ProxyActive = factory.CreateGauge("dso_proxy_active_connections", "Client connections open through the proxy now, by project and service.", "project", "service");
        ProxyDropped = factory.CreateCounter("dso_proxy_dropped_connections_total", "Client connections the proxy closed because no container of the service accepted within proxy.backend_wait.", "project", "service", "reason");
        ProviderApiLatency = factory.CreateHistogram("dso_provider_api_latency_seconds", "Seed name: latency of calls to a secret provider's API, by provider (the same observations as dso_provider_request_duration_seconds, in the seed's buckets).", new HistogramConfiguration
        {
            LabelNames = ["provider"],
            Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });
        ConfigReloads = factory.CreateCounter("dso_config_reloads_total", "Reloads of dso.yaml, by trigger (file, signal) and result (applied, failed).", "trigger", "result");
        ConfigLastReloadSuccessful = factory.CreateGauge("dso_config_last_reload_successful", "1 when the last reload of dso.yaml was applied (or none was tried), 0 when it failed and the agent runs on the last good configuration.");
        ConfigLastReloadSuccessful.Set(1);
        ConfigLoadedAt = factory.CreateGauge("dso_config_last_reload_success_timestamp_seconds", "When the configuration in use was loaded (Unix time).");
        SeedNames(factory);
        SecretDriverRequests = factory.CreateCounter("dso_secret_driver_requests_total", "Values Swarm asked the secret driver for when starting a task, by result (served, refused, failed).", "result");
        SecretsEngineRequests = factory.CreateCounter("dso_secrets_engine_requests_total", "GetSecrets calls on the Docker Secrets Engine resolver socket, by result (served, not_found, invalid, denied, failed).", "result");
        Notifications = factory.CreateCounter("dso_notifications_total", "Rotation results posted to notifications.webhooks, by result (sent, failed).", "result");
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Observes one provider call in both its histograms (ours and the seed's name).</summary>
    public void ObserveProviderCall(string provider, double seconds)
    {
        ProviderDuration.WithLabels(provider).Observe(seconds);
        ProviderApiLatency.WithLabels(provider).Observe(seconds);
    }

    /// <summary>
    /// The names the original project's operations guide gives, derived as each scrape begins from
    /// the metrics above so the two can never disagree: rotations that succeeded and failed (all
    /// strategies), running managed containers, and the cache's hit ratio (hits over hits plus
    /// misses; NaN until the first lookup, so a "&lt; 0.85" alert does not fire on a new agent).
    /// </summary>
    private void SeedNames(MetricFactory factory)
    {
        var success = factory.CreateCounter("dso_rotation_success_total", "Seed name: rotations that completed (dso_rotations_total with result rotated, every strategy).");
        var failures = factory.CreateCounter("dso_rotation_failures_total", "Seed name: rotations that failed and left the old containers serving (dso_rotations_total with result failed).");
        var active = factory.CreateGauge("dso_active_managed_containers", "Seed name: running containers DSO manages (dso_managed_containers).");
        var ratio = factory.CreateGauge("dso_cache_hit_ratio", "Seed name: dso_cache_hits_total / (hits + dso_cache_misses_total); NaN before the first lookup.");
        ratio.Set(double.NaN);
        Registry.AddBeforeCollectCallback(() =>
        {
            success.IncTo(RotationsWith("rotated"));
            failures.IncTo(RotationsWith("failed"));
            active.Set(ManagedContainers.Value);
            var lookups = CacheHits.Value + CacheMisses.Value;
            ratio.Set(lookups == 0 ? double.NaN : CacheHits.Value / lookups);
        });
    }

    private double RotationsWith(string result) =>
        Rotations.GetAllLabelValues().Where(labels => labels[1] == result).Sum(labels => Rotations.WithLabels(labels).Value);

    public Counter IpcRequests { get; }

    public Counter IpcDenied { get; }

    public Counter WebhookRequests { get; }

    public Gauge ManagedProjects { get; }

    public Gauge ManagedServices { get; }

    public Gauge ManagedContainers { get; }

    public Counter Materializations { get; }

    public Counter ProviderRequests { get; }

    public Gauge ProviderCircuit { get; }

    public Counter ConfigReloads { get; }

    public Gauge ConfigLastReloadSuccessful { get; }

    public Gauge ConfigLoadedAt { get; }

    public Histogram ProviderDuration { get; }

    public Histogram ProviderApiLatency { get; }

    public Counter CacheHits { get; }

    public Counter CacheMisses { get; }

    public Counter LastKnownGood { get; }

    public Gauge CacheEntries { get; }

    public Counter DockerEvents { get; }

    public Counter Repairs { get; }

    public Counter ReconcileRuns { get; }

    public Counter SecretChecks { get; }

    public Counter Rotations { get; }

    public Histogram RotationDuration { get; }

    public Histogram DetectionLatency { get; }

    public Counter RotationRecoveries { get; }

    public Gauge Draining { get; }

    public Counter Drained { get; }

    public Counter ProxyConnections { get; }

    public Gauge ProxyActive { get; }

    public Counter ProxyDropped { get; }

    public Counter Notifications { get; }

    public Counter SecretDriverRequests { get; }

    public Counter SecretsEngineRequests { get; }
}
