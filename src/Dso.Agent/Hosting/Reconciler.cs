using Dso.Agent.Docker;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Rotation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Hosting;

/// <summary>
/// Keeps every managed service's secrets in place. At start-up it learns the running containers,
/// settles any rotation the journal shows as interrupted, and restores whatever is missing (after
/// a reboot the RAM directory is empty) before telling systemd it is ready; then it checks
/// every check_interval, at once when a managed container starts or dies, and counts a full
/// reconciliation every reconcile_interval. It rewrites nothing that is in place, so restarting
/// the agent changes nothing in running containers (G8).
/// </summary>
internal sealed class Reconciler(
    ProjectRegistry projects,
    DockerWatcher watcher,
    SwapRecovery recovery,
    RotationQueue queue,
    AgentRuntime runtime,
    ReconcileSignal signal,
    Proxy.TcpProxy proxy,
    DsoMetrics metrics,
    TimeProvider time,
    ILogger<Reconciler> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = runtime.Options;
        IReadOnlyList<(string Project, string Service)> again = [];
        try
        {
            await watcher.RefreshAsync(stoppingToken);
            again = await recovery.RecoverAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError("start-up check of containers and the rotation journal failed: {Error}", e.Message);
        }

        await PassAsync("startup", stoppingToken);
        metrics.ReconcileRuns.Inc();
        runtime.MarkReady();
        if (again.Count > 0)
        {
            _ = queue.RotateNowAsync(again, RotationTrigger.Recovery, stoppingToken);
        }

        var notifier = new SystemdNotifier();
        if (notifier.IsEnabled)
        {
            notifier.Notify(Microsoft.Extensions.Hosting.Systemd.ServiceState.Ready);
        }

        log.LogInformation("ready: {Projects} project(s) managed, secrets in {Directory}", projects.Snapshot().Count, projects.SecretsDirectory);
        var lastFull = time.GetUtcNow();
        var lastVerified = lastFull;
        while (!stoppingToken.IsCancellationRequested)
        {
            bool signalled;
            try
            {
                signalled = await signal.WaitAsync(options.CheckInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var trigger = signalled ? "container event" : "check";
            if (time.GetUtcNow() - lastFull >= options.ReconcileInterval)
            {
                lastFull = time.GetUtcNow();
                metrics.ReconcileRuns.Inc();
                trigger = "reconcile";
            }

            await PassAsync(trigger, stoppingToken);
            // Kernel forwarding's rules may be removed under it (a firewall reload): looked at every 15 s.
            if (time.GetUtcNow() - lastVerified >= TimeSpan.FromSeconds(15))
            {
                lastVerified = time.GetUtcNow();
                proxy.VerifyKernelRules();
            }
        }
    }

    private async Task PassAsync(string trigger, CancellationToken stoppingToken)
    {
        try
        {
            await projects.RepairMissingAsync(trigger, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.LogError("reconciliation ({Trigger}) failed: {Error}", trigger, e.Message);
        }
    }
}
