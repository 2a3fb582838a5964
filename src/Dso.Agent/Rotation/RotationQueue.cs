using Dso.Agent.Hosting;
using Dso.Agent.Projects;
using Dso.Ipc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// Coalesces detected changes and runs the rotations (spec 5): a service changed within the
/// debounce window rotates once, at the end of the window counted from its first change (`live`
/// and `none` at once: a file rewrite disturbs nobody). Projects rotate in parallel up to
/// max_concurrent_rotations; within a project, one service at a time, dependencies first.
/// </summary>
internal sealed partial class RotationQueue(
    ProjectRegistry projects,
    ProjectLocks locks,
    ServiceRotator rotator,
    SwapDrains drains,
    AgentOptions options,
    AgentRuntime runtime,
    TimeProvider time,
    ILogger<RotationQueue> log) : BackgroundService
{
    private readonly Lock _gate = new();
    private readonly PendingRotations _pending = new(time, options.Debounce);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentRotations, options.MaxConcurrentRotations);
    private readonly List<Task> _running = [];

    /// <summary>Services waiting for their debounce window to end.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>
    /// Queues the services one change concerns, with one due time, so that they rotate in one batch
    /// per project (in dependency order) rather than in the order the change found them.
    /// <paramref name="immediate"/> skips the debounce (a check that a service is up to date, not a change).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="trigger">Why.</param>
    /// <param name="immediate">Skip the debounce.</param>
    /// <param name="changed">Per service, its variables whose secrets changed (absent: all).</param>
    public void Enqueue(IReadOnlyList<(string Project, string Service)> services, RotationTrigger trigger, bool immediate = false, IReadOnlyDictionary<(string Project, string Service), IReadOnlySet<string>>? changed = null)
    {
        var registered = new Dictionary<(string Project, string Service), (ProjectRegistration Project, ServiceRegistration Service)>();
        foreach (var (project, service) in services)
        {
            var managed = projects.TryGet(project)?.Registration;
            if (managed?.Services.FirstOrDefault(s => s.Name == service) is { } registration)
            {
                registered[(project, service)] = (managed, registration);
            }
        }

        _pending.Add(
            [.. registered.Keys.Select(key => (key, trigger with { Variables = changed?.GetValueOrDefault(key) }))],
            (key, own) => immediate || projects.PolicyOf(registered[key].Project, registered[key].Service, own.Variables).Strategy is "live" or "none");
        _wake.Release();
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
        while (!stoppingToken.IsCancellationRequested)
        {
            var due = _pending.TakeDue(out var untilNext);
            var wait = untilNext is { } next && next < TimeSpan.FromSeconds(1) ? next : TimeSpan.FromSeconds(1);
            foreach (var project in due.GroupBy(d => d.Project, StringComparer.Ordinal))
            {
                Track(RunProjectAsync(project.Key, [.. project.Select(p => (p.Service, p.Trigger))], stoppingToken));
            }

            try
            {
                await _wake.WaitAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Task[] running;
        lock (_gate)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running);
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
