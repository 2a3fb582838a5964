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
/// start-up. When the agent stops, drains skip the rest of their grace and finish at once.
/// </summary>
internal sealed partial class SwapDrains(DsoMetrics metrics, ILogger<SwapDrains> log) : IHostedService, IDisposable
{
    /// <summary>Swaps whose old containers may drain at the same time.</summary>
    public const int MaxDraining = 16;

    private readonly SemaphoreSlim _slots = new(MaxDraining, MaxDraining);
    private readonly CancellationTokenSource _hurry = new();
    private readonly Lock _gate = new();
    private readonly List<(string Project, string Service, Task Work)> _running = [];

    /// <summary>
    /// Starts <paramref name="drain"/> in the background once a slot is free; returns when it has
    /// started. The drain gets a token that fires when the agent stops (skip the wait, finish now).
    /// </summary>
    public async Task StartAsync(string project, string service, Func<CancellationToken, Task> drain, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        metrics.Draining.Inc();
        var work = Task.Run(async () =>
        {
            try
            {
                await drain(_hurry.Token);
            }
            catch (Exception e)
            {
                LogDrainFailed(project, service, e.Message);
            }
            finally
            {
                metrics.Draining.Dec();
                _slots.Release();
            }
        }, CancellationToken.None);
        lock (_gate)
        {
            _running.RemoveAll(r => r.Work.IsCompleted);
            _running.Add((project, service, work));
        }
    }

    /// <summary>Completes when every drain of the given services (all when null) has ended.</summary>
    public Task WaitAsync(IReadOnlyCollection<(string Project, string Service)>? services, CancellationToken cancellationToken)
    {
        Task[] pending;
        lock (_gate)
        {
            pending = [.. _running.Where(r => services is null || services.Contains((r.Project, r.Service))).Select(r => r.Work)];
        }

        return Task.WhenAll(pending).WaitAsync(cancellationToken);
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The agent stops: no drain waits out its grace any more; each stops and removes its old containers now.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _hurry.CancelAsync();
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
        _hurry.Dispose();
        _slots.Dispose();
    }

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning, Message = "draining the old containers of {Project}/{Service} failed: {Error}; the journal keeps it, and the next start of the agent finishes it")]
    private partial void LogDrainFailed(string project, string service, string error);
}
