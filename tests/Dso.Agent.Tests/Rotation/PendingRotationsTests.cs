using Dso.Agent.Rotation;
using Microsoft.Extensions.Time.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>The rotation queue's debounce window (spec 5), on virtual time: the test moves the clock instead of sleeping.</summary>
public sealed class PendingRotationsTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Window_IsCountedFromTheFirstChange_LaterChangesCoalesceIntoIt()
    {
        var time = new FakeTimeProvider(Start);
        var pending = new PendingRotations(time, TimeSpan.FromSeconds(5));
        pending.Add([(("shop", "api"), Change("poll", Start.AddSeconds(-2), "DB_PASSWORD"))], Debounced);

        time.Advance(TimeSpan.FromSeconds(3));
        pending.Add([(("shop", "api"), Change("webhook", Start.AddSeconds(2), "API_KEY"))], Debounced);
        time.Advance(TimeSpan.FromSeconds(1.9));

        Assert.Empty(pending.TakeDue(out var untilNext));
        Assert.Equal(TimeSpan.FromSeconds(0.1), untilNext);

        time.Advance(TimeSpan.FromSeconds(0.1));
        var due = Assert.Single(pending.TakeDue(out untilNext));
        Assert.Null(untilNext);
        Assert.Equal(("shop", "api"), (due.Project, due.Service));
        Assert.Equal("poll", due.Trigger.Trigger);
        Assert.Equal(Start.AddSeconds(-2), due.Trigger.ChangedAt);
        Assert.Equal(["API_KEY", "DB_PASSWORD"], due.Trigger.Variables!.Order(StringComparer.Ordinal));
        Assert.Equal(0, pending.Count);
    }

    [Fact]
    public void AChangeOfAllVariables_CoalescesToAll_AndAtOnceSkipsTheWindow()
    {
        var time = new FakeTimeProvider(Start);
        var pending = new PendingRotations(time, TimeSpan.FromSeconds(5));
        pending.Add([(("shop", "api"), Change("poll", null, "DB_PASSWORD"))], Debounced);
        pending.Add([(("shop", "api"), Change("file", null))], Debounced);
        pending.Add([(("shop", "cache"), Change("poll", null))], (_, _) => true);

        var now = Assert.Single(pending.TakeDue(out var untilNext));
        Assert.Equal("cache", now.Service);
        Assert.Equal(TimeSpan.FromSeconds(5), untilNext);

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Null(Assert.Single(pending.TakeDue(out _)).Trigger.Variables);
    }

    [Fact]
    public void TheServicesOfOneChange_ComeDueTogether_AndRemovedOnesNever()
    {
        var time = new FakeTimeProvider(Start);
        var pending = new PendingRotations(time, TimeSpan.FromSeconds(5));
        pending.Add([(("shop", "db"), Change("poll", null)), (("shop", "api"), Change("poll", null)), (("blog", "web"), Change("poll", null))], Debounced);
        pending.Remove([("blog", "web")]);

        time.Advance(TimeSpan.FromSeconds(5));
        var due = pending.TakeDue(out var untilNext);

        Assert.Equal(["api", "db"], due.Select(d => d.Service).Order(StringComparer.Ordinal));
        Assert.Null(untilNext);
    }

    [Fact]
    public void AnImmediateChange_OfAWaitingService_IsDueAtOnce_AndAtOnceSeesTheCoalescedVariables()
    {
        var time = new FakeTimeProvider(Start);
        var pending = new PendingRotations(time, TimeSpan.FromSeconds(5));
        pending.Add([(("shop", "api"), Change("poll", null, "DB_PASSWORD"))], Debounced);
        IReadOnlySet<string>? seen = null;

        // The second change alone would not skip the window; with the first one merged, it does.
        pending.Add([(("shop", "api"), Change("poll", null, "CERT"))], (_, trigger) =>
        {
            seen = trigger.Variables;
            return trigger.Variables!.Count == 2;
        });

        Assert.Equal(["CERT", "DB_PASSWORD"], seen!.Order(StringComparer.Ordinal));
        Assert.Single(pending.TakeDue(out _));
    }

    private static bool Debounced((string Project, string Service) service, RotationTrigger trigger) => false;

    private static RotationTrigger Change(string trigger, DateTimeOffset? changedAt, params string[] variables) =>
        new(trigger, "test", changedAt) { Variables = variables.Length == 0 ? null : new HashSet<string>(variables, StringComparer.Ordinal) };
}
