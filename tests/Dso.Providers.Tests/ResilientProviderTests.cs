using Dso.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace Dso.Providers.Tests;

/// <summary>
/// The retries and circuit breaker around every provider (spec 7), on virtual time: the test moves
/// the clock past open_for and through the backoff instead of waiting for them.
/// </summary>
public sealed class ResilientProviderTests
{
    private static readonly SecretRequest[] One = [new("app/db", null)];

    [Fact]
    public async Task Circuit_OpensAfterFailuresInARow_RefusesUntilOpenFor_ThenOneTrialDecides()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var inner = new ScriptedProvider();
        using var provider = new ResilientProvider(inner, Config(attempts: 1, failures: 2, openFor: TimeSpan.FromSeconds(30)), time);

        // Two failed calls in a row open it; a missing secret (not transient) would not count.
        Assert.True((await provider.ResolveAsync(One, TestContext.Current.CancellationToken))[0].Transient);
        Assert.Equal("closed", provider.CircuitState);
        await provider.ResolveAsync(One, TestContext.Current.CancellationToken);
        Assert.Equal("open", provider.CircuitState);
        Assert.Equal(2, inner.Calls);

        // Open: refused at once, the provider not asked, until open_for has passed.
        var refused = (await provider.ResolveAsync(One, TestContext.Current.CancellationToken))[0];
        Assert.Contains("circuit open after 2 failed calls in a row", refused.Error, StringComparison.Ordinal);
        time.Advance(TimeSpan.FromSeconds(29));
        await provider.ResolveAsync(One, TestContext.Current.CancellationToken);
        Assert.Equal(2, inner.Calls);
        Assert.Equal("open", provider.CircuitState);

        // Half-open: one trial goes through; calls meanwhile are refused. It fails: open again, from now.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("half-open", provider.CircuitState);
        var hold = new TaskCompletionSource();
        inner.Hold = hold;
        inner.Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var trial = provider.ResolveAsync(One, TestContext.Current.CancellationToken);
        await inner.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Contains("circuit open", (await provider.ResolveAsync(One, TestContext.Current.CancellationToken))[0].Error, StringComparison.Ordinal);
        hold.SetResult();
        Assert.True((await trial)[0].Transient);
        Assert.Equal(3, inner.Calls);
        Assert.Equal("open", provider.CircuitState);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal("open", provider.CircuitState);

        // The next trial succeeds: closed, and the count of failures starts again.
        time.Advance(TimeSpan.FromSeconds(1));
        inner.Healthy = true;
        Assert.Equal("value", (await provider.ResolveAsync(One, TestContext.Current.CancellationToken))[0].Value!.RevealString());
        Assert.Equal("closed", provider.CircuitState);
        inner.Healthy = false;
        await provider.ResolveAsync(One, TestContext.Current.CancellationToken);
        Assert.Equal("closed", provider.CircuitState);
    }

    [Fact]
    public async Task Retries_WaitOutTheBackoff_OnTheClock_AndStopAtTheFirstGoodAnswer()
    {
        var time = new FakeTimeProvider();
        var inner = new ScriptedProvider { HealthyFromCall = 3 };
        using var provider = new ResilientProvider(inner, Config(attempts: 3, failures: 5, openFor: TimeSpan.FromSeconds(30)), time);

        var call = provider.ResolveAsync(One, TestContext.Current.CancellationToken);

        // The first attempt failed; the retry waits on the clock, which has not moved.
        await inner.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(call.IsCompleted);
        Assert.Equal(1, inner.Calls);

        // Moving the clock runs the retries: the third attempt answers, no fourth is made.
        for (var step = 0; step < 100 && !call.IsCompleted; step++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
            await Task.Delay(1, TestContext.Current.CancellationToken);
        }

        Assert.True(call.IsCompleted, "the retries never ran");
        Assert.Equal("value", (await call)[0].Value!.RevealString());
        Assert.Equal(3, inner.Calls);
        Assert.Equal("closed", provider.CircuitState);
    }

    private static ProviderConfig Config(int attempts, int failures, TimeSpan openFor) => new()
    {
        Type = "plugin",
        Retry = new RetryConfig { Attempts = attempts, Backoff = TimeSpan.FromSeconds(1) },
        Circuit = new CircuitConfig { Failures = failures, OpenFor = openFor },
    };

    /// <summary>A provider that fails (transiently) or answers as the test says, and counts its calls.</summary>
    private sealed class ScriptedProvider : ISecretProvider
    {
        private int _calls;

        public string Name => "scripted";

        public int Calls => Volatile.Read(ref _calls);

        public bool Healthy { get; set; }

        public int HealthyFromCall { get; init; } = int.MaxValue;

        /// <summary>When set, a call waits for it (after saying it entered).</summary>
        public TaskCompletionSource? Hold { get; set; }

        /// <summary>Completed by the next call (replace it to wait for a later one).</summary>
        public TaskCompletionSource Entered { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            Entered.TrySetResult();
            if (Hold is { } hold)
            {
                Hold = null;
                await hold.Task.WaitAsync(cancellationToken);
            }

            return Healthy || call >= HealthyFromCall
                ? [.. requests.Select(_ => new ResolvedSecret(Dso.Secrets.SecretValue.FromString("value"), null))]
                : [.. requests.Select(_ => ResolvedSecret.Failed("provider down"))];
        }
    }
}
