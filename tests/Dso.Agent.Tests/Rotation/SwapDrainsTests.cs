using Dso.Agent.Observability;
using Dso.Agent.Rotation;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// The drains of rolling swaps (spec 6) on virtual time: a grace period ends when the agent's clock
/// says so, counted from the switch; hurrying a project or stopping the agent cuts it short; at most
/// <see cref="SwapDrains.MaxDraining"/> drain at once. The engine tests cover the containers themselves.
/// </summary>
public sealed class SwapDrainsTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly ApplicationLifetime _lifetime = new(NullLogger<ApplicationLifetime>.Instance);
    private readonly DsoMetrics _metrics = new("test");

    private SwapDrains Drains() => new(_metrics, _lifetime, _time, NullLogger<SwapDrains>.Instance);

    [Fact]
    public async Task AGracePeriod_EndsOnTheAgentsClock_CountedFromTheSwitch()
    {
        using var drains = Drains();
        var switchedAt = _time.GetUtcNow();
        var ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await drains.StartAsync("shop", "api", async hurry => ended.SetResult(await drains.GraceAsync(switchedAt, Grace, hurry)), TestContext.Current.CancellationToken);

        _time.Advance(Grace - TimeSpan.FromMilliseconds(1));
        Assert.False(ended.Task.IsCompleted);
        Assert.Equal(1, _metrics.Draining.Value);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await ended.Task.WaitAsync(Bound, TestContext.Current.CancellationToken), "the grace period ran out, nobody hurried it");
        await drains.WaitAsync(null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(0, _metrics.Draining.Value);

        // A drain that starts after its grace has passed (it waited for a slot, or the agent restarted) does not wait again.
        Assert.False(await drains.GraceAsync(switchedAt, Grace, CancellationToken.None).WaitAsync(Bound, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task HurryingAProject_EndsItsDrainsAtOnce_AndLeavesOthersWaiting()
    {
        using var drains = Drains();
        var shop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var blog = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var since = _time.GetUtcNow();
        await drains.StartAsync("shop", "api", async hurry => shop.SetResult(await drains.GraceAsync(since, Grace, hurry)), TestContext.Current.CancellationToken);
        await drains.StartAsync("blog", "web", async hurry => blog.SetResult(await drains.GraceAsync(since, Grace, hurry)), TestContext.Current.CancellationToken);

        await drains.HurryProjectAsync("shop", TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.True(await shop.Task.WaitAsync(Bound, TestContext.Current.CancellationToken), "shop's drain was hurried");
        Assert.False(blog.Task.IsCompleted);

        // The agent begins to stop: every drain left is hurried, and stopping waits for them.
        _lifetime.StopApplication();
        Assert.True(await blog.Task.WaitAsync(Bound, TestContext.Current.CancellationToken), "stopping the agent hurries the rest");
        await ((Microsoft.Extensions.Hosting.IHostedService)drains).StopAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(0, _metrics.Draining.Value);
    }

    [Fact]
    public async Task AtMostSixteenDrainAtOnce_TheNextStartsWhenOneEnds()
    {
        using var drains = Drains();
        var since = _time.GetUtcNow();
        for (var i = 0; i < SwapDrains.MaxDraining; i++)
        {
            // Each a second longer than the one before, so they end one by one.
            var grace = Grace + TimeSpan.FromSeconds(i);
            await drains.StartAsync("shop", $"api{i}", hurry => drains.GraceAsync(since, grace, hurry), TestContext.Current.CancellationToken);
        }

        Assert.Equal(SwapDrains.MaxDraining, _metrics.Draining.Value);
        var waiting = drains.StartAsync("shop", "late", hurry => drains.GraceAsync(since, Grace, hurry), TestContext.Current.CancellationToken);
        _time.Advance(Grace - TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted, "no slot is free before the first grace period ends");

        _time.Advance(TimeSpan.FromSeconds(1));
        await waiting.WaitAsync(Bound, TestContext.Current.CancellationToken);

        // The late one's grace was counted from its switch, so it ends at once; then the rest end on the clock.
        _time.Advance(TimeSpan.FromSeconds(SwapDrains.MaxDraining));
        await drains.WaitAsync(null, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(0, _metrics.Draining.Value);
    }
}
