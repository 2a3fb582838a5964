using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>G5: a value the agent holds never appears in its output, even when an error message carries it.</summary>
public sealed class RedactionTests
{
    [Fact]
    public async Task AnErrorThatEchoesAKnownValue_IsMaskedInLogsAuditStatusEventsAndResponses_AtTraceLevel()
    {
        using var dir = new TempDirectory("dso-agent-");
        var canary = "canary" + Guid.NewGuid().ToString("N");
        var field = "field" + Guid.NewGuid().ToString("N");
        var files = new FileSecrets(dir);
        files.Write(new() { ["app/password"] = canary, ["app/creds"] = $"{{\"user\":\"app\",\"password\":\"{field}\"}}" });
        await using var agent = new AgentProcess(dir, files.Yaml);
        await agent.StartAsync(logLevel: "trace");
        using var ipc = agent.Ipc();
        (await Registrations.RegisterAsync(ipc, Registrations.Project("good", ("api", 0, [("PASSWORD", "dso://app/password"), ("DB_PASSWORD", "dso://app/creds#password")])))).Dispose();
        using var events = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watched = WatchAsync(agent, events.Token);
        await Task.Delay(500, TestContext.Current.CancellationToken);

        // A reference whose path is the value: the provider's "no secret named …" message carries it.
        using var failed = await Registrations.RegisterAsync(ipc, Registrations.Project("bad", ("api", 0, [("X", $"dso://{canary}")])));
        var response = await failed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // The same with a value the agent only ever delivered as one field of a JSON secret.
        using var failedField = await Registrations.RegisterAsync(ipc, Registrations.Project("worse", ("api", 0, [("Y", $"dso://{field}")])));
        response += await failedField.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var status = await ipc.GetStringAsync("/v1/status", TestContext.Current.CancellationToken);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        await events.CancelAsync();
        var eventText = await watched;
        await agent.StopAsync();

        Assert.Contains("[redacted]", response, StringComparison.Ordinal);
        Assert.Contains("project.failed", eventText, StringComparison.Ordinal);
        var places = new[] { ("response", response), ("status", status), ("events", eventText), ("agent output", agent.Output), ("audit log", File.ReadAllText(agent.AuditLog)) };
        foreach (var (place, text) in places)
        {
            Assert.False(text.Contains(canary, StringComparison.Ordinal), $"the value leaked into the {place}");
            Assert.False(text.Contains(field, StringComparison.Ordinal), $"the JSON field's value leaked into the {place}");
        }

        Figures.Record("G5", $"places holding a value an error message echoed at trace level, of {places.Length} (response, status, events, agent output, audit log)", places.Count(p => p.Item2.Contains(canary, StringComparison.Ordinal)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("registration of bad by uid 0", agent.Output, StringComparison.Ordinal);
        Assert.Contains("[redacted]", agent.Output, StringComparison.Ordinal);
    }

    private static async Task<string> WatchAsync(AgentProcess agent, CancellationToken cancellationToken)
    {
        using var ipc = agent.Ipc();
        var text = new System.Text.StringBuilder();
        try
        {
            using var stream = await ipc.GetStreamAsync("/v1/events", cancellationToken);
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                text.AppendLine(line);
            }
        }
        catch (OperationCanceledException)
        {
        }

        return text.ToString();
    }
}
