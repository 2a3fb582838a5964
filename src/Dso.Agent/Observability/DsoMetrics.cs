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
    }

    public CollectorRegistry Registry { get; }

    public Counter IpcRequests { get; }

    public Counter IpcDenied { get; }

    public Counter WebhookRequests { get; }

    public Gauge ManagedProjects { get; }

    public Gauge ManagedServices { get; }

    public Gauge ManagedContainers { get; }

    public Counter Materializations { get; }

    public Counter ProviderRequests { get; }

    public Histogram ProviderDuration { get; }

    public Counter CacheHits { get; }

    public Counter CacheMisses { get; }

    public Counter LastKnownGood { get; }

    public Gauge CacheEntries { get; }

    public Counter DockerEvents { get; }

    public Counter Repairs { get; }

    public Counter ReconcileRuns { get; }
}
