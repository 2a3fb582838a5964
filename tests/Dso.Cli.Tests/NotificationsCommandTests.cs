using System.Net;
using System.Text;
using System.Text.Json;
using Dso.Notifications;

namespace Dso.Cli.Tests;

public sealed class NotificationsCommandTests
{
    /// <summary>An HTTP endpoint on loopback that answers each post with the next status of a script, and keeps what it got.</summary>
    private sealed class Endpoint : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public Endpoint(params HttpStatusCode[] answers)
        {
            Port = FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                for (var i = 0; ; i++)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }

                    using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                    Received.Add((context.Request.Url!.AbsolutePath, await reader.ReadToEndAsync(), context.Request.Headers[WebhookSignature.TimestampHeader], context.Request.Headers[WebhookSignature.SignatureHeader]));
                    context.Response.StatusCode = (int)answers[Math.Min(i, answers.Length - 1)];
                    context.Response.Close();
                }
            });
        }

        public int Port { get; }

        public List<(string Path, string Body, string? Timestamp, string? Signature)> Received { get; } = [];

        public void Dispose()
        {
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }

        private static int FreePort()
        {
            using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }
    }

    [Fact]
    public async Task Test_PostsToEveryTarget_SignedAndRetried_AndReportsEach()
    {
        using var json = new Endpoint(HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        using var slack = new Endpoint(HttpStatusCode.OK);
        using var wrong = new Endpoint(HttpStatusCode.NotFound);
        using var cli = new VaultCliFixture(initialize: false);
        var config = cli.WriteFile("dso.yaml", $"""
            notifications:
              webhooks:
                - url: http://127.0.0.1:{json.Port}/hooks/T0KEN-IN-PATH
                  secret: hook-key
                - url: http://127.0.0.1:{slack.Port}/slack
                  format: slack
                  on: failed
                - url: http://127.0.0.1:{wrong.Port}/nowhere
            """);

        var run = await cli.RunAsync("notifications", "test", "--config", config);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("dso: 1 of 3 notification targets failed; check each url and that it accepts a POST of JSON\n", run.StandardError);
        var rows = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(rows, r => r.StartsWith($"http://127.0.0.1:{json.Port} ", StringComparison.Ordinal) && r.Contains("yes", StringComparison.Ordinal) && r.EndsWith("sent (2 attempts)", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith($"http://127.0.0.1:{slack.Port} ", StringComparison.Ordinal) && r.Contains("slack", StringComparison.Ordinal) && r.EndsWith("sent (1 attempt)", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith($"http://127.0.0.1:{wrong.Port} ", StringComparison.Ordinal) && r.EndsWith("FAILED after 1 attempt: HTTP 404", StringComparison.Ordinal));
        Assert.DoesNotContain("T0KEN-IN-PATH", run.StandardOutput + run.StandardError, StringComparison.Ordinal);

        Assert.Equal(2, json.Received.Count);
        var (path, body, timestamp, signature) = json.Received[1];
        Assert.Equal("/hooks/T0KEN-IN-PATH", path);
        var message = JsonDocument.Parse(body).RootElement;
        Assert.Equal("test", message.GetProperty("event").GetString());
        Assert.Equal(Environment.MachineName, message.GetProperty("host").GetString());
        Assert.Equal("sha256=" + WebhookSignature.Sign("hook-key", timestamp!, Encoding.UTF8.GetBytes(body)), signature);
        var text = JsonDocument.Parse(Assert.Single(slack.Received).Body).RootElement.GetProperty("text").GetString();
        Assert.Contains("DSO test notification", text, StringComparison.Ordinal);
        Assert.Contains("failed rotations and open circuits", text, StringComparison.Ordinal);
        Assert.Null(Assert.Single(slack.Received).Signature);
    }

    [Fact]
    public async Task Test_Json_ListsEachTarget_AndNoTargetIsOneClearError()
    {
        using var ok = new Endpoint(HttpStatusCode.NoContent);
        using var cli = new VaultCliFixture(initialize: false);
        var config = cli.WriteFile("dso.yaml", $"notifications:\n  webhooks:\n    - url: http://127.0.0.1:{ok.Port}/x\n");
        var empty = cli.WriteFile("empty.yaml", "logging:\n  level: info\n");

        var run = await cli.RunAsync("notifications", "test", "--json", "--config", config);
        var none = await cli.RunAsync("notifications", "test", "--config", empty);

        Assert.True(run.ExitCode == 0, run.ToString());
        var result = Assert.Single(JsonDocument.Parse(run.StandardOutput).RootElement.EnumerateArray().ToList());
        Assert.True(result.GetProperty("sent").GetBoolean());
        Assert.Equal(1, result.GetProperty("attempts").GetInt32());
        Assert.Equal("json", result.GetProperty("format").GetString());
        Assert.False(result.GetProperty("signed").GetBoolean());
        Assert.Equal(1, none.ExitCode);
        Assert.Equal($"dso: {empty}: notifications.webhooks is empty; add a target (url, format, on, secret) first, see docs/configuration.md\n", none.StandardError);
    }
}
