using Dso.Agent.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Rotation;

/// <summary>
/// The tail of rolling swaps, off the rotation's critical path (spec 6): once clients are on the
/// new containers the service is released, and its old containers drain for the grace period, stop
/// with their own stop signal and timeout, and are removed here in the background. Several may
/// drain at once, up to <see cref="MaxDraining"/> (a rotation that would exceed it waits for a
/// slot). Each drain is journaled by its swap, so an agent that dies meanwhile finishes it at
/// start-up. A drain is hurried — the rest of its grace skipped — when its project registers again
/// (`up`) or is removed, and
/// all of them as soon as the agent begins to stop (before the API closes), so shutdown does not
/// wait out grace periods; a swap that switches after that drains at once, in line.
/// </summary>
internal sealed partial class SwapDrains : IHostedService, IDisposable
{
    /// <summary>Swaps whose old containers may drain at the same time.</summary>
    public const int MaxDraining = 16;

    private readonly SemaphoreSlim _slots = new(MaxDraining, MaxDraining);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private readonly Lock _gate = new();
    private readonly List<Drain> _running = [];
    private readonly DsoMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<SwapDrains> _log;

    public SwapDrains(DsoMetrics metrics, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<SwapDrains> log)
    {
        _metrics = metrics;
        _time = time;
        _log = log;
        _stoppingToken = _stopping.Token;
        lifetime.ApplicationStopping.Register(HurryAll);
    }

    /// <summary>
    /// Starts <paramref name="drain"/> in the background once a slot is free; returns when it has
    /// started (or, once the agent is stopping, when it is done). The drain gets a token that fires
    /// when it must hurry (skip the rest of its grace, finish now).
    /// </summary>
    public async Task StartAsync(string project, string service, Func<CancellationToken, Task> drain, CancellationToken cancellationToken)
    {
        if (_stoppingToken.IsCancellationRequested)
        {
            _metrics.Draining.Inc();
            await RunAsync(project, service, drain, _stoppingToken);
            return;
        }

        await _slots.WaitAsync(cancellationToken);
        _metrics.Draining.Inc();
        var hurry = CancellationTokenSource.CreateLinkedTokenSource(_stoppingToken);
        var work = Task.Run(
            async () =>
            {
                try
                {
                    await RunAsync(project, service, drain, hurry.Token);
                }
                finally
                {
                    hurry.Dispose();
                    _slots.Release();
                }
            },
            CancellationToken.None);
        lock (_gate)
        {
            _running.RemoveAll(r => r.Work.IsCompleted);
            _running.Add(new Drain(project, service, work, hurry));
        }
    }

    /// <summary>
    /// A drain's grace period: completes <paramref name="grace"/> after <paramref name="since"/> (the
    /// switch, so a drain that waited for a slot or an agent restart does not wait it out again), or
    /// as soon as <paramref name="hurry"/> fires. Returns whether it was hurried.
    /// </summary>
    public async Task<bool> GraceAsync(DateTimeOffset since, TimeSpan grace, CancellationToken hurry)
    {
        var left = since + grace - _time.GetUtcNow();
        if (left <= TimeSpan.Zero)
        {
            return hurry.IsCancellationRequested;
        }

        try
        {
            await Task.Delay(left, _time, hurry);
            return false;
        }
        catch (OperationCanceledException) when (hurry.IsCancellationRequested)
        {
            return true;
        }
    }

    /// <summary>Completes when every drain of the given services (all when null) has ended.</summary>
    public Task WaitAsync(IReadOnlyCollection<(string Project, string Service)>? services, CancellationToken cancellationToken) =>
        Task.WhenAll(Running(d => services is null || services.Contains((d.Project, d.Service))).Select(d => d.Work)).WaitAsync(cancellationToken);

    /// <summary>Hurries the drains of <paramref name="project"/> and waits for them (before compose runs for it again, or its secrets are wiped).</summary>
    public async Task HurryProjectAsync(string project, CancellationToken cancellationToken)
    {
        var drains = Running(d => d.Project == project);
        foreach (var drain in drains)
        {
            Cancel(drain.Hurry);
        }

        await Task.WhenAll(drains.Select(d => d.Work)).WaitAsync(cancellationToken);
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The agent stops: the drains, already hurried, stop and remove their old containers; this waits for them.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        HurryAll();
        try
        {
            await WaitAsync(null, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Past the host's shutdown timeout: the journal still holds what is left, and the next start finishes it.
        }
    }

    public void Dispose()
    {
        // Drains past the shutdown timeout may still release a slot: then nothing is disposed (the
        // process is ending; neither holds an OS handle).
        if (Running(_ => true).Count == 0)
        {
            _stopping.Dispose();
            _slots.Dispose();
        }
    }

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That drain has ended.
        }
    }

    private void HurryAll() => Cancel(_stopping);

    private List<Drain> Running(Func<Drain, bool> which)
    {
        lock (_gate)
        {
            return [.. _running.Where(d => !d.Work.IsCompleted && which(d))];
        }
    }

    /// <summary>Runs a drain counted in the gauge (the caller counted it when it took its slot).</summary>
    private async Task RunAsync(string project, string service, Func<CancellationToken, Task> drain, CancellationToken hurry)
    {
        try
        {
            await drain(hurry);
        }
        catch (Exception e)
        {
            LogDrainFailed(project, service, e.Message);
        }
        finally
        {
            _metrics.Draining.Dec();
        }
    }

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning, Message = "draining the old containers of {Project}/{Service} failed: {Error}; the journal keeps it, and the next start of the agent finishes it")]
    private partial void LogDrainFailed(string project, string service, string error);

    private sealed record Drain(string Project, string Service, Task Work, CancellationTokenSource Hurry);
}
