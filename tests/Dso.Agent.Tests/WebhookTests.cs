using System.Globalization;
using System.Net;
using System.Text;
using Dso.Agent.Rest;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>G10: webhooks need a fresh, unique HMAC-SHA256 signature; nothing else triggers work (the agent here watches by webhook only).</summary>
public sealed class WebhookTests
{
    private const string Key = "webhook-shared-key-7f3a";

    [Fact]
    public async Task OnlyAValidSignedFreshRequest_IsAccepted_AndOnlyItTriggersARotation()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "v1" });
        await using var agent = new AgentProcess(dir, $"    webhook_secret: {Key}\n    webhook_rate: 8\n" + files.Yaml, agentKeys: "  debounce: 200ms\n  watch:\n    mode: webhook\n    watch_files: false\n");
        await agent.StartAsync();
        using (var ipc = agent.Ipc())
        {
            (await Registrations.RegisterAsync(ipc, Registrations.Project("shop", ("api", 0, [("DB_FILE", "dsofile://shop/db")])))).Dispose();
        }

        // The webhook follows the registration at once, before the agent's next detection pass has
        // created the watch for the new secret: the notice must still be acted on.
        var file = Path.Combine(agent.SecretsDirectory, "shop", "api", "current", "db");
        await AgentLifecycleTests.WaitUntilAsync(() => Task.FromResult(File.Exists(file) && File.ReadAllText(file) == "v1"));
        files.Write(new() { ["shop/db"] = "v2" });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var old = DateTimeOffset.UtcNow.AddMinutes(-6).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var body = "{\"secret\":\"shop/db\"}"u8.ToArray();
        var other = "{\"secret\":\"prod/db\"}"u8.ToArray();
        var cases = new (string Name, string Provider, byte[] Body, string? Timestamp, string? Signature, HttpStatusCode Expected)[]
        {
            ("bad signature", "files", body, now, "sha256=" + new string('0', 64), HttpStatusCode.Unauthorized),
            ("signed with another key", "files", body, now, "sha256=" + WebhookVerifier.Sign("not-the-key", now, body), HttpStatusCode.Unauthorized),
            ("no signature", "files", body, now, null, HttpStatusCode.Unauthorized),
            ("stale timestamp", "files", body, old, "sha256=" + WebhookVerifier.Sign(Key, old, body), HttpStatusCode.Unauthorized),
            ("oversized body", "files", new byte[WebhookVerifier.MaxBodyBytes + 1], now, "sha256=" + WebhookVerifier.Sign(Key, now, new byte[WebhookVerifier.MaxBodyBytes + 1]), HttpStatusCode.RequestEntityTooLarge),
            ("unknown provider", "aws", other, now, "sha256=" + WebhookVerifier.Sign(Key, now, other), HttpStatusCode.NotFound),
        };
        foreach (var bad in cases)
        {
            Assert.True(await PostAsync(agent, bad.Provider, bad.Body, bad.Timestamp, bad.Signature) == bad.Expected, bad.Name);
        }

        var refreshesBefore = RefreshCount(await agent.MetricsAsync());
        var valid = "sha256=" + WebhookVerifier.Sign(Key, now, body);
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(agent, "files", body, now, valid));
        Assert.Equal(HttpStatusCode.Conflict, await PostAsync(agent, "files", body, now, valid));
        await AgentLifecycleTests.WaitUntilAsync(async () => File.ReadAllText(file) == "v2" && RefreshCount(await agent.MetricsAsync()) == 1);

        var metrics = await agent.MetricsAsync();
        Assert.Equal(0, refreshesBefore);
        Assert.Equal(1, RefreshCount(metrics));
        Assert.Equal(1, AgentProcess.Metric(metrics, "dso_webhook_requests_total{provider=\"files\",result=\"accepted\"}"));
        // Until a signature holds, no refusal says which provider the path named.
        Assert.Equal(4, AgentProcess.Metric(metrics, "dso_webhook_requests_total{provider=\"unknown\",result=\"bad_signature\"}") + AgentProcess.Metric(metrics, "dso_webhook_requests_total{provider=\"unknown\",result=\"stale\"}"));
        Assert.Equal(1, AgentProcess.Metric(metrics, "dso_webhook_requests_total{provider=\"unknown\",result=\"replay\"}"));
        Assert.DoesNotContain("provider=\"files\",result=\"bad_signature\"", metrics, StringComparison.Ordinal);
        Assert.Equal(1, AgentProcess.Metric(metrics, "dso_webhook_requests_total{provider=\"unknown\",result=\"unknown_provider\"}"));
    }

    [Fact]
    public async Task ForgedWebhooks_SpendNoBudget_LeaveNoAttackerText_AndDoNotSayWhichProvidersExist()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "v1" });
        await using var agent = new AgentProcess(dir, $"    webhook_secret: {Key}\n    webhook_rate: 8\n" + files.Yaml, agentKeys: "  watch:\n    mode: webhook\n    watch_files: false\n");
        await agent.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var forged = "sha256=" + new string('0', 64);
        var attackerName = "evil" + new string('Z', 8000);

        // Unsigned, a known and an unknown provider get the same answer.
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(agent, "files", "{}"u8.ToArray(), now, forged));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(agent, "aws", "{}"u8.ToArray(), now, forged));
        var auditBefore = File.Exists(agent.AuditLog) ? File.ReadAllLines(agent.AuditLog).Length : 0;
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(agent, attackerName, "{}"u8.ToArray(), now, forged));
        }

        var fresh = Encoding.UTF8.GetBytes("{\"n\":0}");
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(agent, "files", fresh, now, "sha256=" + WebhookVerifier.Sign(Key, now, fresh)));
        var audit = File.ReadAllLines(agent.AuditLog);
        var metrics = await agent.MetricsAsync();
        Assert.True(audit.Length - auditBefore <= 2 * WebhookVerifier.AuditedRefusalsPerMinute + 3, $"{audit.Length - auditBefore} audit lines for 100 forged webhooks");
        Assert.DoesNotContain(audit, line => line.Contains("ZZZZ", StringComparison.Ordinal));
        Assert.DoesNotContain("ZZZZ", metrics, StringComparison.Ordinal);
        Assert.True(AgentProcess.Metric(metrics, "dso_webhook_requests_total{provider=\"unknown\",result=\"bad_signature\"}") >= 101);

        // Authentic requests do spend the budget: at most webhook_rate (8) a minute, including the one above.
        var accepted = 1;
        HttpStatusCode last = HttpStatusCode.Accepted;
        for (var i = 1; i <= 20 && last == HttpStatusCode.Accepted; i++)
        {
            var next = Encoding.UTF8.GetBytes($"{{\"n\":{i}}}");
            last = await PostAsync(agent, "files", next, now, "sha256=" + WebhookVerifier.Sign(Key, now, next));
            accepted += last == HttpStatusCode.Accepted ? 1 : 0;
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        Assert.True(accepted <= 16, $"{accepted} accepted before the limit");

        // A request refused for the budget was not taken as seen: sent again, it is not a replay.
        var refused = Encoding.UTF8.GetBytes($"{{\"n\":{accepted}}}");
        Assert.NotEqual(HttpStatusCode.Conflict, await PostAsync(agent, "files", refused, now, "sha256=" + WebhookVerifier.Sign(Key, now, refused)));
    }

    [Fact]
    public async Task WithoutAWebhookSecret_WebhooksAreOff()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PostAsync(agent, "local", "{}"u8.ToArray(), "1", "sha256=00"));
    }

    private static double RefreshCount(string metrics) =>
        AgentProcess.Metric(metrics, "dso_rotations_total{strategy=\"rolling\",result=\"rotated\"}");

    private static async Task<HttpStatusCode> PostAsync(AgentProcess agent, string provider, byte[] body, string? timestamp, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, agent.RestUri($"/v1/webhook/{provider}")) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        if (timestamp is not null)
        {
            request.Headers.Add(WebhookVerifier.TimestampHeader, timestamp);
        }

        if (signature is not null)
        {
            request.Headers.Add(WebhookVerifier.SignatureHeader, signature);
        }

        using var response = await agent.Rest.SendAsync(request);
        _ = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        return response.StatusCode;
    }
}
