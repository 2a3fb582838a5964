using Dso.Configuration;

namespace Dso.Agent.Rotation;

/// <summary>
/// When a watched secret is checked next (spec 5, agent.watch): a secret whose version did not
/// change waits twice as long as before, up to backoff_limit times the polling interval; a change
/// (or an error) starts again at one interval. Each wait is moved by up to ±jitter percent, so the
/// secrets of one provider do not all come due in the same second.
/// </summary>
internal sealed class PollSchedule(WatchConfig watch, Func<double>? random = null)
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;

    /// <summary>The backoff factor after a check: 1 after a change, else the previous one doubled up to the limit.</summary>
    public double FactorAfter(bool changed, double previous) => changed ? 1 : Math.Min(previous * 2, Math.Max(1, watch.BackoffLimit));

    /// <summary>The time of the next check, <paramref name="factor"/> intervals (± jitter) after <paramref name="now"/>.</summary>
    public DateTimeOffset Next(DateTimeOffset now, double factor)
    {
        var interval = watch.PollingInterval * factor;
        var jitter = interval * (watch.Jitter / 100.0) * ((_random() * 2) - 1);
        return now + interval + jitter;
    }
}
