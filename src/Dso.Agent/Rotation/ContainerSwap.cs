using System.Security.Cryptography;
using Docker.DotNet.Models;
using Dso.Agent.Observability;
using Dso.Agent.Proxy;
using Dso.Injection.Secrets;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// Replaces a service's containers with clones that run the new generation of secrets (spec 6),
/// journaling every phase before taking it (<see cref="SwapPhases.Order"/>). `rolling` starts the
/// clones beside the old containers and moves the proxy to them once healthy; `restart` stops the
/// old ones first. Until the switch, any failure undoes everything and the old containers keep (or
/// go back to) serving; after it, the swap is finished. A rolling swap returns once clients are on
/// the new containers: the old ones drain, stop and go in the background (<see cref="SwapDrains"/>),
/// so the service is free for its next change. Recovery after a crash runs the same undo and finish
/// steps, which check the engine and so can be repeated.
/// </summary>
internal sealed partial class ContainerSwap(
    EngineContainers engine,
    HealthGate health,
    RotationJournal journal,
    SecretStore store,
    TcpProxy proxy,
    SwapDrains drains,
    DsoMetrics metrics,
    TimeProvider time,
    ILogger<ContainerSwap> log)
{
    /// <summary>Runs the swap; null when the new containers serve, else why the old ones still do.</summary>
    public async Task<string?> RunAsync(SwapPlan plan, CancellationToken cancellationToken)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var entry = new JournalEntry(
            id, plan.Project, plan.Service, plan.Mode, SwapPhase.Begin, plan.OldGeneration, plan.NewGeneration, plan.Fingerprint,
            [.. plan.Old.Select(c => new SwapContainer(c.Id, c.Name, $"{c.Name}-dso-next-{id}"))], time.GetUtcNow());
        var backends = proxy.BackendsOf(plan.Project, plan.Service);
        using var pin = backends.Pin();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Took(string step)
        {
            plan.Timings[step] = Math.Round(clock.Elapsed.TotalSeconds, 4);
            clock.Restart();
        }

        journal.Append(entry);
        try
        {
            entry = Step(entry, SwapPhase.Activate);
            store.Activate(plan.Project, plan.Service, plan.NewGeneration);
            if (plan.Mode == SwapPhases.Restart)
            {
                entry = Step(entry, SwapPhase.StopOld);
                backends.Replace(backends.Current.Where(b => plan.Old.All(o => o.Id != b.ContainerId)), byRotation: true);
                await Task.WhenAll(plan.Old.Select(o => engine.StopAsync(o.Inspect, plan.Policy.Grace, cancellationToken)));
            }

            Took("prepare");
            entry = Step(entry, SwapPhase.Create);
            var created = new List<SwapContainer>();
            foreach (var (old, container) in plan.Old.Zip(entry.Containers))
            {
                created.Add(container with { NewId = await engine.CreateCloneAsync(old.Inspect, container.NextName, plan.Fingerprint, cancellationToken) });
                entry = entry with { Containers = [.. created, .. entry.Containers.Skip(created.Count)] };
            }

            Took("create");
            entry = Step(entry, SwapPhase.Start);
            foreach (var container in entry.Containers)
            {
                await engine.StartAsync(container.NewId!, cancellationToken);
            }

            var problem = await health.WaitAsync([.. entry.Containers.Select(c => c.NewId!)], plan.Policy, cancellationToken);
            Took("start_to_healthy");
            if (problem is not null)
            {
                await UndoAsync(entry, "failed", CancellationToken.None);
                return problem;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogStepFailed(plan.Project, plan.Service, entry.Phase, e.Message);
            await UndoAsync(entry, "failed", CancellationToken.None);
            return $"{Describe(entry.Phase)} failed: {e.Message}";
        }

        entry = await SwitchAsync(entry, CancellationToken.None, plan.Timings);
        if (plan.Mode == SwapPhases.Rolling)
        {
            var switched = entry;
            await drains.StartAsync(plan.Project, plan.Service, hurry => RetireAsync(switched, plan.Policy.Grace, hurry, CancellationToken.None), CancellationToken.None);
        }
        else
        {
            await RetireAsync(entry, TimeSpan.Zero, CancellationToken.None, CancellationToken.None, plan.Timings);
        }

        return null;
    }

    /// <summary>
    /// Takes a swap that did not reach the switch back to where it started: the clones removed, the
    /// old generation active again, the old containers under their names and running, the proxy on them.
    /// </summary>
    public async Task UndoAsync(JournalEntry entry, string outcome, CancellationToken cancellationToken)
    {
        var backends = proxy.BackendsOf(entry.Project, entry.Service);
        using var pin = backends.Pin();
        foreach (var container in entry.Containers)
        {
            if (container.NewId is { } newId)
            {
                await engine.RemoveAsync(newId, cancellationToken);
            }

            await engine.RemoveAsync(container.NextName, cancellationToken);
        }

        if (entry.OldGeneration is { } oldGeneration && store.Generations(entry.Project, entry.Service).Contains(oldGeneration))
        {
            store.Activate(entry.Project, entry.Service, oldGeneration);
            if (oldGeneration != entry.NewGeneration && store.Generations(entry.Project, entry.Service).Contains(entry.NewGeneration))
            {
                store.RemoveGeneration(entry.Project, entry.Service, entry.NewGeneration);
            }
        }

        var serving = new List<Backend>();
        foreach (var container in entry.Containers)
        {
            if (await engine.TryInspectAsync(container.OldId, cancellationToken) is not { } old)
            {
                continue;
            }

            if (old.Name.TrimStart('/') != container.Name)
            {
                await engine.RenameAsync(old.ID, container.Name, cancellationToken);
            }

            if (old.State?.Running != true)
            {
                await engine.StartAsync(old.ID, cancellationToken);
                old = await engine.TryInspectAsync(old.ID, cancellationToken) ?? old;
            }

            if (EngineContainers.AddressOf(old.NetworkSettings?.Networks) is { } address)
            {
                serving.Add(new Backend(old.ID, address));
            }
        }

        var others = backends.Current.Where(b => entry.Containers.All(c => c.OldId != b.ContainerId && c.NewId != b.ContainerId));
        backends.Replace([.. others, .. serving], byRotation: true);
        journal.Append(entry with { Phase = SwapPhase.Done, At = time.GetUtcNow(), Outcome = outcome });
    }

    /// <summary>
    /// Completes a swap whose clones were healthy: <see cref="SwitchAsync"/>, then
    /// <see cref="RetireAsync(JournalEntry, CancellationToken)"/> (no drain: the agent that held the connections is gone).
    /// </summary>
    public async Task FinishAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        entry = await SwitchAsync(entry, cancellationToken);
        await RetireAsync(entry, cancellationToken);
    }

    /// <summary>Recovery of a swap a later one superseded: only its old containers are removed (no drain: the agent that held their connections is gone).</summary>
    public Task RetireAsync(JournalEntry entry, CancellationToken cancellationToken) =>
        RetireAsync(entry, TimeSpan.Zero, CancellationToken.None, cancellationToken);

    /// <summary>The proxy on the clones, the old containers renamed aside and the clones given their names. Returns the entry as journaled.</summary>
    private async Task<JournalEntry> SwitchAsync(JournalEntry entry, CancellationToken cancellationToken, Dictionary<string, double>? timings = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var backends = proxy.BackendsOf(entry.Project, entry.Service);
        using var pin = backends.Pin();
        var clones = new List<(SwapContainer Container, ContainerInspectResponse? New)>();
        foreach (var container in entry.Containers)
        {
            var clone = (container.NewId is { } newId ? await engine.TryInspectAsync(newId, cancellationToken) : null)
                ?? await engine.TryInspectAsync(container.NextName, cancellationToken);
            clones.Add((container, clone));
        }

        entry = Step(entry with { Containers = [.. clones.Select(c => c.Container with { NewId = c.New?.ID ?? c.Container.NewId })] }, SwapPhase.Switch);
        var fresh = clones.Where(c => c.New is not null).Select(c => EngineContainers.AddressOf(c.New!.NetworkSettings?.Networks) is { } address ? new Backend(c.New.ID, address) : null).OfType<Backend>();
        var others = backends.Current.Where(b => entry.Containers.All(c => c.OldId != b.ContainerId && c.NewId != b.ContainerId));
        backends.Replace([.. others, .. fresh], byRotation: true);

        entry = Step(entry, SwapPhase.RenameOld);
        foreach (var container in entry.Containers)
        {
            if (await engine.TryInspectAsync(container.OldId, cancellationToken) is { } old && old.Name.TrimStart('/') == container.Name)
            {
                await Attempt(() => engine.RenameAsync(old.ID, container.PreviousName(entry.Id), cancellationToken), entry, "rename the old container");
            }
        }

        entry = Step(entry, SwapPhase.RenameNew);
        foreach (var (container, clone) in clones.Where(c => c.New is not null))
        {
            await Attempt(() => engine.RenameAsync(clone!.ID, container.Name, cancellationToken), entry, "give the new container its name");
        }

        if (timings is not null)
        {
            timings["switch"] = Math.Round(clock.Elapsed.TotalSeconds, 4);
        }

        return entry;
    }

    /// <summary>
    /// The old containers of a switched swap: for `rolling`, after <paramref name="grace"/> (so their
    /// open connections can finish; cut short when <paramref name="hurry"/> fires) stopped with their
    /// own stop signal and timeout; then removed, and the old generation shredded.
    /// </summary>
    private async Task RetireAsync(JournalEntry entry, TimeSpan grace, CancellationToken hurry, CancellationToken cancellationToken, Dictionary<string, double>? timings = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (entry.Mode == SwapPhases.Rolling)
        {
            await drains.GraceAsync(entry.At, grace, hurry);

            entry = Step(entry, SwapPhase.StopOld);
            foreach (var container in entry.Containers)
            {
                if (await engine.TryInspectAsync(container.OldId, cancellationToken) is { } old)
                {
                    await Attempt(() => engine.StopAsync(old, null, cancellationToken), entry, "stop the old container");
                }
            }
        }

        entry = Step(entry, SwapPhase.RemoveOld);
        foreach (var container in entry.Containers)
        {
            await Attempt(() => engine.RemoveAsync(container.OldId, cancellationToken), entry, "remove the old container");
        }

        entry = Step(entry, SwapPhase.Cleanup);
        var current = store.CurrentGeneration(entry.Project, entry.Service);

        // Normally active since the Activate phase; only a swap interrupted before that (and so undone, never here) could differ.
        // A later swap of the service may have activated a newer generation meanwhile: that one stays.
        if ((current is null || current == entry.OldGeneration) && store.Generations(entry.Project, entry.Service).Contains(entry.NewGeneration))
        {
            store.Activate(entry.Project, entry.Service, entry.NewGeneration);
        }

        if (entry.OldGeneration is { } oldGeneration && oldGeneration != entry.NewGeneration && store.Generations(entry.Project, entry.Service).Contains(oldGeneration)
            && store.CurrentGeneration(entry.Project, entry.Service) != oldGeneration)
        {
            store.RemoveGeneration(entry.Project, entry.Service, oldGeneration);
        }

        journal.Append(entry with { Phase = SwapPhase.Done, At = time.GetUtcNow(), Outcome = "rotated" });
        if (entry.Mode == SwapPhases.Rolling)
        {
            metrics.Drained.Inc(entry.Containers.Count);
            LogDrained(entry.Project, entry.Service, entry.Containers.Count, Math.Round(clock.Elapsed.TotalSeconds, 2));
        }

        if (timings is not null)
        {
            timings["cleanup"] = Math.Round(clock.Elapsed.TotalSeconds, 4);
        }
    }

    private JournalEntry Step(JournalEntry entry, SwapPhase phase)
    {
        var next = entry with { Phase = phase, At = time.GetUtcNow() };
        journal.Append(next);
        return next;
    }

    private async Task Attempt(Func<Task> action, JournalEntry entry, string what)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Past the switch nothing is undone: the new containers serve. What did not work is logged for the operator.
            LogFinishStepFailed(entry.Project, entry.Service, what, e.Message);
        }
    }

    private static string Describe(SwapPhase phase) => phase switch
    {
        SwapPhase.Activate => "activating the new secrets",
        SwapPhase.StopOld => "stopping the old container",
        SwapPhase.Create => "creating the new container",
        SwapPhase.Start => "starting the new container",
        _ => phase.ToString(),
    };

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "rotation of {Project}/{Service} failed at {Phase}: {Error}; undoing it")]
    private partial void LogStepFailed(string project, string service, SwapPhase phase, string error);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "rotation of {Project}/{Service}: {Count} old container(s) drained, stopped and removed in {Seconds}s")]
    private partial void LogDrained(string project, string service, int count, double seconds);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "rotation of {Project}/{Service}: could not {What}: {Error}")]
    private partial void LogFinishStepFailed(string project, string service, string what, string error);
}
