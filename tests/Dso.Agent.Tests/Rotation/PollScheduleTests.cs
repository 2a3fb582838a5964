using Dso.Agent.Rotation;
using Dso.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>The change detector's polling backoff (agent.watch), on virtual time.</summary>
public sealed class PollScheduleTests
{
    [Fact]
    public void AnUnchangedSecret_WaitsTwiceAsLongEachTime_UpToTheLimit_AndAChangeStartsAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var schedule = new PollSchedule(new WatchConfig { PollingInterval = TimeSpan.FromSeconds(30), BackoffLimit = 8, Jitter = 0 });
        var factor = 1.0;
        var waits = new List<double>();
        for (var check = 0; check < 6; check++)
        {
            factor = schedule.FactorAfter(changed: false, factor);
            var next = schedule.Next(time.GetUtcNow(), factor);
            waits.Add((next - time.GetUtcNow()).TotalSeconds);
            time.SetUtcNow(next);
        }

        Assert.Equal([60, 120, 240, 240, 240, 240], waits);
        Assert.Equal(1, schedule.FactorAfter(changed: true, factor));
        Assert.Equal(TimeSpan.FromSeconds(30), schedule.Next(time.GetUtcNow(), 1) - time.GetUtcNow());
    }

    [Theory]
    [InlineData(0.0, 27)]
    [InlineData(0.5, 30)]
    [InlineData(1.0, 33)]
    public void Jitter_MovesEachWaitByUpToItsPercentage(double random, double seconds)
    {
        var now = DateTimeOffset.UnixEpoch;
        var schedule = new PollSchedule(new WatchConfig { PollingInterval = TimeSpan.FromSeconds(30), BackoffLimit = 8, Jitter = 10 }, () => random);

        Assert.Equal(seconds, (schedule.Next(now, 1) - now).TotalSeconds, precision: 6);
    }

    [Fact]
    public void ABackoffLimitOfOne_KeepsTheInterval()
    {
        var schedule = new PollSchedule(new WatchConfig { PollingInterval = TimeSpan.FromSeconds(30), BackoffLimit = 1, Jitter = 0 });
        Assert.Equal(1, schedule.FactorAfter(changed: false, 1));
    }
}
