using System.Threading.Channels;
using Dso.Agent.Hosting;
using Dso.Agent.Projects;
using Dso.Ipc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// Coalesces detected changes and runs the rotations (spec 5). Changes arrive over
/// <see cref="RotationRequests"/>; the queue wakes when one does or when the window's next service
/// is due, on the agent's clock (no polling). A service changed within the
/// debounce window rotates once, at the end of the window counted from its first change (`live`
/// and `none` at once: a file rewrite disturbs nobody). Projects rotate in parallel up to
/// max_concurrent_rotations; within a project, one service at a time, dependencies first.
/// </summary>
internal sealed partial class RotationQueue(
    ProjectRegistry projects,
    ProjectLocks locks,
    RotationRequests requests,
    ServiceRotator rotator,
    SwapDrains drains,
    AgentOptions options,
    AgentRuntime runtime,
    TimeProvider time,
    ILogger<RotationQueue> log) : BackgroundService
{
    private readonly Lock _gate = new();
    private readonly PendingRotations _pending = new(time, options.Debounce);
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentRotations, options.MaxConcurrentRotations);
    private readonly List<Task> _running = [];

    /// <summary>
    /// Adds the services one change concerns to the window, with one due time, so that they rotate
    /// in one batch per project (in dependency order) rather than in the order the change found them.
    /// </summary>
    private void Add(DetectedChange change)
    {
        var registered = new Dictionary<(string Project, string Service), (ProjectRegistration Project, ServiceRegistration Service)>();
        foreach (var (project, service) in change.Services)
        {
            var managed = projects.TryGet(project)?.Registration;
            if (managed?.Services.FirstOrDefault(s => s.Name == service) is { } registration)
            {
                registered[(project, service)] = (managed, registration);
            }
        }

        _pending.Add(
            [.. registered.Keys.Select(key => (key, change.Trigger with { Variables = change.Changed?.GetValueOrDefault(key) }))],
            (key, own) => change.Immediate || projects.PolicyOf(registered[key].Project, registered[key].Service, own.Variables).Strategy is "live" or "none");
    }

    /// <summary>
    /// Rotates the given services now (`docker dso rotate`, recovery), bypassing the debounce;
    /// returns when all are done, old containers drained and removed included (each service is
    /// free for other changes as soon as its new containers serve).
    /// </summary>
    public async Task<IReadOnlyList<RotationResult>> RotateNowAsync(IReadOnlyList<(string Project, string Service)> services, RotationTrigger trigger, CancellationToken cancellationToken)
    {
        _pending.Remove(services);
        var byProject = services.GroupBy(s => s.Project, StringComparer.Ordinal)
            .Select(g => RunProjectAsync(g.Key, [.. g.Select(s => (s.Service, trigger))], cancellationToken));
        var results = (await Task.WhenAll(byProject)).SelectMany(r => r).ToList();
        await drains.WaitAsync([.. services], cancellationToken);
        return results;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await runtime.Ready.WaitAsync(stoppingToken);
        var changes = requests.Reader;
        TimeSpan? untilNext;
        do
        {
            while (changes.TryRead(out var change))
            {
                Add(change);
            }

            foreach (var project in _pending.TakeDue(out untilNext).GroupBy(d => d.Project, StringComparer.Ordinal))
            {
                Track(RunProjectAsync(project.Key, [.. project.Select(p => (p.Service, p.Trigger))], stoppingToken));
            }
        }
        while (await NextAsync(changes, untilNext, stoppingToken));

        Task[] running;
        lock (_gate)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running);
    }

    /// <summary>
    /// Waits until a change arrives or the next service in the window is due (on the agent's clock);
    /// false once the agent stops.
    /// </summary>
    private async Task<bool> NextAsync(ChannelReader<DetectedChange> changes, TimeSpan? untilDue, CancellationToken stoppingToken)
    {
        using var due = untilDue is { } wait ? new CancellationTokenSource(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, time) : new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, due.Token);
        try
        {
            return await changes.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<IReadOnlyList<RotationResult>> RunProjectAsync(string project, IReadOnlyList<(string Service, RotationTrigger Trigger)> services, CancellationToken cancellationToken)
    {
        var results = new List<RotationResult>();
        try
        {
            await _slots.WaitAsync(cancellationToken);
            try
            {
                using var held = await locks.LockAsync(project, cancellationToken);
                var registration = projects.TryGet(project)?.Registration;
                var dependsOn = (registration?.Services ?? []).ToDictionary(s => s.Name, s => s.Rotation?.DependsOn ?? [], StringComparer.Ordinal);
                var triggers = services.ToDictionary(s => s.Service, s => s.Trigger, StringComparer.Ordinal);
                foreach (var service in DependencyOrder.Sort(triggers.Keys, s => dependsOn.GetValueOrDefault(s) ?? []))
                {
                    results.Add(await rotator.RotateAsync(project, service, triggers[service], cancellationToken));
                }
            }
            finally
            {
                _slots.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogProjectFailed(project, e.Message);
        }

        return results;
    }

    private void Track(Task task)
    {
        lock (_gate)
        {
            _running.RemoveAll(t => t.IsCompleted);
            _running.Add(task);
        }
    }

    [LoggerMessage(EventId = 430, Level = LogLevel.Error, Message = "rotations of {Project} stopped: {Error}")]
    private partial void LogProjectFailed(string project, string error);
}
