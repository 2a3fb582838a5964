using System.Globalization;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// Back-to-back changes of a rolling service whose process ignores SIGTERM (only the engine's
/// SIGKILL after 10 s stops it, like busybox httpd as PID 1): the service is released once clients
/// are on the new container, and the old ones drain and stop in the background, so each change
/// reaches clients within the debounce window plus one swap instead of queueing behind 10-second
/// stops. Repeated five times (the scenario is timing-heavy; once proves little). Runs in the main
/// (Compose v2) lane only: it exercises the agent, not compose.
/// </summary>
[Trait("compose", "v2")]
public sealed class RotationPipelineTests(EngineFixture engine)
{
    private const int Changes = 20;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(1);

    public static TheoryData<int> Runs() => [1, 2, 3, 4, 5];

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task TwentyChangesTwoSecondsApart_EachReachesClientsWithinDebouncePlusASwap_NoneDropped_OneContainerLeft(int run)
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            """
            services:
              web:
                image: IMAGE
                command: ["--ignore-term", "serve", "8080", "DB_PASSWORD"]
                labels:
                  dso.strategy: rolling
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  DB_PASSWORD: dso://app/db
            """.Replace("IMAGE", TestImages.App, StringComparison.Ordinal),
            new() { ["app/db"] = "value-0" },
            agentKeys: "  debounce: 1s\n  watch:\n    polling_interval: 1s\n  rotation:\n    grace_period: 1s\n    health_check_timeout: 20s\n");
        await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=value-0\n");

        using var load = new ClientLoad(stack.Port, "DB_PASSWORD=value-");
        load.Start();
        var setAt = new TimeSpan[Changes + 1];
        var mostDraining = 0d;
        for (var i = 1; i <= Changes; i++)
        {
            var next = load.Now + Interval;
            setAt[i] = load.Now;
            stack.Set("app/db", $"value-{i}");
            mostDraining = Math.Max(mostDraining, await stack.MetricAsync("dso_draining_containers"));
            var wait = next - load.Now;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, TestContext.Current.CancellationToken);
            }
        }

        await RotationStack.WaitForAnswerAsync(stack.Port, $"DB_PASSWORD=value-{Changes}\n", 60);

        // Every old container drains, gets SIGTERM (ignored) and the engine's SIGKILL 10 s later, and goes.
        await AgentLifecycleTests.WaitUntilAsync(
            async () => await stack.MetricAsync("dso_draining_containers") == 0 && (await stack.TemporariesAsync()).Length == 0 && (await stack.Project.AllContainersAsync()).Length == 1,
            90);
        var (requests, longLived, failures) = await load.StopAsync();

        var latencies = Enumerable.Range(1, Changes).Select(i => (load.FirstSeen(i) ?? TimeSpan.MaxValue) - setAt[i]).ToList();
        var sorted = latencies.Order().ToList();
        var p50 = sorted[(sorted.Count - 1) / 2].TotalSeconds;
        var worst = sorted[^1].TotalSeconds;
        var summary = string.Create(CultureInfo.InvariantCulture, $"run {run}: {Changes} changes {Interval.TotalSeconds:0} s apart, change → served p50 {p50:0.00} s, max {worst:0.00} s (debounce {Debounce.TotalSeconds:0} s); {failures.Count} failed of {requests} requests ({longLived} long-lived connections); up to {mostDraining} old containers draining at once");
        TestContext.Current.TestOutputHelper?.WriteLine(summary);

        Assert.True(failures.Count == 0, $"{failures.Count} failed of {requests} requests: {string.Join("; ", failures.Take(5))}");
        Assert.True(requests > 1000, $"only {requests} requests were made");
        Assert.Contains($"DB_PASSWORD=value-{Changes}\n", await RotationStack.QueryAsync(stack.Port), StringComparison.Ordinal);
        Assert.Single(await stack.Project.AllContainersAsync());
        Assert.Empty(await stack.TemporariesAsync());

        // Held behind each old container's 10-second stop, the last change would wait for the whole queue (over a minute).
        Assert.True(worst <= (Debounce + TimeSpan.FromSeconds(6)).TotalSeconds, $"a change took {worst:0.00} s to reach clients: {summary}");
        Assert.True(mostDraining >= 2, $"old containers did not drain side by side in the background: {summary}");
        Assert.Equal(0, await stack.MetricAsync("dso_proxy_dropped_connections_total{project=\"" + stack.Project.Name + "\",service=\"web\",reason=\"no_backend\"}"));
        Figures.Record("G6", "rolling changes 2 s apart (20, process ignores SIGTERM): change → served, and failed requests", summary);
    }
}
