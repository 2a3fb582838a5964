using System.Net;
using System.Text;
using System.Text.Json;
using Dso.Agent.Rest;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>What decides whether and how a rotation happens: G8, dependency order, the volume guard, notifications, selection.</summary>
public sealed class RotationBehaviourTests(EngineFixture engine)
{
    private static string App(string name, string strategy, string extra = "") => $$"""
          {{name}}:
            image: {{TestImages.App}}
            command: ["serve", "8080", "DB_PASSWORD"]
            labels:
              dso.strategy: {{strategy}}
            environment:
              DB_PASSWORD: dso://app/db
        {{extra}}

        """;

    [Fact]
    public async Task RestartingTheAgent_WithNothingChanged_RotatesNothing_EvenWithoutItsVersionFile()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync("services:\n" + App("web", "rolling"), new() { ["app/db"] = "steady" });
        var container = await stack.Project.ContainerAsync("web");
        var before = await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}");

        var rotations = 0.0;
        for (var restart = 0; restart < 3; restart++)
        {
            await stack.Agent.StopAsync();
            if (restart == 2)
            {
                File.Delete(Path.Combine(stack.Agent.StateDirectory, "versions.json"));
            }

            await stack.Agent.StartAsync();
            await Task.Delay(3500, TestContext.Current.CancellationToken);
            var metrics = await stack.Agent.MetricsAsync();
            Assert.True(AgentProcess.Metric(metrics, "dso_secret_checks_total{provider=\"files\",result=\"unchanged\"}") + AgentProcess.Metric(metrics, "dso_secret_checks_total{provider=\"files\",result=\"changed\"}") >= 1, "the agent checked nothing");
            rotations += metrics.Split('\n').Where(l => l.StartsWith("dso_rotations_total{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"3 agent restarts with nothing changed: {rotations} rotation(s)");
        Assert.Equal(0, rotations);
        Assert.Equal(before, await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}"));
        Figures.Record("G8", "rotations after 3 agent restarts with nothing changed (the last without its version file)", rotations.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task OneChangeConsumedByDependentServices_RotatesTheDependencyFirst()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + App("frontend", "restart", "    depends_on: [backend]") + App("backend", "restart", "    depends_on: [database]") + App("database", "restart"),
            new() { ["app/db"] = "order-one" });

        stack.Set("app/db", "order-two");
        await stack.WaitForRotationsAsync("restart", RotationResult.Rotated, 3);

        var order = (await File.ReadAllLinesAsync(stack.Agent.AuditLog, TestContext.Current.CancellationToken))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("action").GetString() == "rotate" && e.GetProperty("result").GetString() == RotationResult.Rotated)
            .Select(e => e.GetProperty("target").GetString()!.Split('/')[1])
            .ToList();
        Assert.Equal(["database", "backend", "frontend"], order);
    }

    [Fact]
    public async Task RollingWithAWritableVolume_RestartsInstead_AndSaysWhy()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + App("db", "rolling", "    volumes: [\"data:/data\"]") + "volumes:\n  data: {}\n",
            new() { ["app/db"] = "volume-one" });

        stack.Set("app/db", "volume-two");
        await stack.WaitForRotationsAsync("rolling", RotationResult.Rotated, 1);

        var result = (await stack.RotateAsync("db")).Single();
        var status = JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!;
        var last = status.Projects.Single().Services.Single().LastRotation!;
        Assert.Contains("restart instead of rolling: it mounts writable /data", last.Message + result.Message, StringComparison.Ordinal);
        Assert.Single(await stack.Project.AllContainersAsync());
    }

    [Fact]
    public async Task ARotation_IsPostedToTheNotificationWebhook_SignedAndWithoutTheValue()
    {
        await engine.RequireAsync();
        var port = AgentProcess.FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        var received = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = (context.Request.Headers[WebhookVerifier.TimestampHeader], context.Request.Headers[WebhookVerifier.SignatureHeader]);
            context.Response.StatusCode = 200;
            context.Response.Close();
            return (body, headers);
        });
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + App("web", "restart"),
            new() { ["app/db"] = "notify-one" },
            extraYaml: $"notifications:\n  webhooks:\n    - url: http://127.0.0.1:{port}/hook/\n      format: slack\n      secret: hook-key\n");

        stack.Set("app/db", "notify-two-secret-value");
        var (body, (timestamp, signature)) = await received.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var text = JsonDocument.Parse(body).RootElement.GetProperty("text").GetString()!;
        Assert.Contains($"DSO rotated {stack.Project.Name}/web (restart", text, StringComparison.Ordinal);
        Assert.DoesNotContain("notify-two-secret-value", body, StringComparison.Ordinal);
        Assert.Equal("sha256=" + WebhookVerifier.Sign("hook-key", timestamp!, Encoding.UTF8.GetBytes(body)), signature);
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_notifications_total{result=\"sent\"}") == 1);
    }

    [Fact]
    public async Task Rotate_ForOneSecret_RotatesOnlyItsConsumers_AndNamesWhatItDoesNotKnow()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            "services:\n" + App("web", "restart") + $$"""
              other:
                image: {{TestImages.App}}
                command: ["serve", "8080", "TOKEN"]
                labels:
                  dso.strategy: restart
                environment:
                  TOKEN: dso://app/token
            """,
            new() { ["app/db"] = "select-one", ["app/token"] = "token-one" });
        var other = await stack.Project.ContainerAsync("other");

        var results = await stack.RotateAsync("--secret", "app/db", "--force");

        Assert.Equal("web", Assert.Single(results).Service);
        Assert.Equal(RotationResult.Rotated, results[0].Outcome);
        Assert.Equal(other, await stack.Project.ContainerAsync("other"));
        var unknown = await stack.Project.DsoAsync("rotate", "nosuchservice");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no managed service named nosuchservice", unknown.StandardError, StringComparison.Ordinal);
    }

    /// <summary>
    /// The original project's operations guide alerts on its own metric names and reads its own audit
    /// fields: after one rotation both are there and agree with DSO's own series and records.
    /// </summary>
    [Fact]
    public async Task ARotation_ShowsInTheSeedsMetricNames_AndAuditFields()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync("services:\n" + App("web", "restart"), new() { ["app/db"] = "seed-one" });

        stack.Set("app/db", "seed-two");
        await stack.WaitForRotationsAsync("restart", RotationResult.Rotated, 1);

        var metrics = await stack.Agent.MetricsAsync();
        var rotated = AgentProcess.Metric(metrics, "dso_rotations_total{strategy=\"restart\",result=\"rotated\"}");
        Assert.Equal(rotated, AgentProcess.Metric(metrics, "dso_rotation_success_total"));
        Assert.Equal(0, AgentProcess.Metric(metrics, "dso_rotation_failures_total"));
        Assert.True(AgentProcess.Metric(metrics, "dso_active_managed_containers") >= 1, "the running web container is not counted");
        Assert.Equal(AgentProcess.Metric(metrics, "dso_managed_containers"), AgentProcess.Metric(metrics, "dso_active_managed_containers"));
        var calls = AgentProcess.Metric(metrics, "dso_provider_api_latency_seconds_count{provider=\"files\"}");
        Assert.True(calls >= 1, "no provider call observed under dso_provider_api_latency_seconds");
        Assert.Equal(AgentProcess.Metric(metrics, "dso_provider_request_duration_seconds_count{provider=\"files\"}"), calls);
        var hits = AgentProcess.Metric(metrics, "dso_cache_hits_total");
        var misses = AgentProcess.Metric(metrics, "dso_cache_misses_total");
        var ratio = AgentProcess.Metric(metrics, "dso_cache_hit_ratio");
        Assert.True(hits + misses >= 1, "no cache lookup counted");
        Assert.Equal(hits / (hits + misses), ratio, 6);

        var record = (await File.ReadAllLinesAsync(stack.Agent.AuditLog, TestContext.Current.CancellationToken))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Last(e => e.GetProperty("action").GetString() == "rotate");
        Assert.Equal("rotation_completed", record.GetProperty("event").GetString());
        Assert.Equal("success", record.GetProperty("status").GetString());
        Assert.Equal("DB_PASSWORD", record.GetProperty("secret").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", record.GetProperty("timestamp").GetString());
        Assert.True(record.GetProperty("duration_ms").GetInt64() > 0);
        var container = record.GetProperty("container").GetString()!;
        Assert.Equal(await RotationStack.InspectAsync(await stack.Project.ContainerAsync("web"), "{{.Id}}"), await RotationStack.InspectAsync(container, "{{.Id}}"));
        Assert.DoesNotContain("seed-two", await File.ReadAllTextAsync(stack.Agent.AuditLog, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}
