using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dso.Agent.Rotation;
using Dso.Agent.State;
using Dso.Agent.Tests.Rotation;
using Dso.Ipc;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>Every metric docs/metrics.md documents is exported and moves in one workflow against a real engine.</summary>
public sealed partial class MetricsTests(EngineFixture engine)
{
    [Fact]
    public async Task EveryDocumentedMetric_ExistsAndMoves()
    {
        await engine.RequireAsync();
        var closedPort = AgentProcess.FreePort();
        var driverSocket = $"/run/docker/plugins/dsom{Guid.NewGuid():N}"[..32] + ".sock";
        await using var stack = await RotationStack.UpAsync(
            $$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                restart: always
                stop_signal: SIGKILL
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD: dso://app/db
              web:
                image: {{TestImages.App}}
                command: ["serve", "8080", "WEB_TOKEN"]
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  WEB_TOKEN: dso://app/web
            """,
            new() { ["app/db"] = "metrics-db", ["app/web"] = "metrics-web-1" },
            extraYaml: $"proxy:\n  backend_wait: 500ms\nnotifications:\n  webhooks:\n    - url: http://127.0.0.1:{closedPort}/\n",
            apiKeys: "    webhook_secret: k\n",
            secretDriver: driverSocket,
            secretsEngine: Path.Combine(Path.GetTempPath(), $"dso-metrics-se-{Guid.NewGuid():N}.sock"));
        var api = await stack.Project.ContainerAsync("api");
        var web = await stack.Project.ContainerAsync("web");
        var secrets = Path.Combine(stack.Agent.SecretsDirectory, stack.Project.Name);

        // Counters live in memory: restart the agent first, then do everything once. At start-up it
        // finds an interrupted swap in its journal (recovery) and an empty RAM directory (a repair
        // with an empty cache: a miss).
        await stack.Agent.StopAsync();
        Directory.Delete(secrets, recursive: true);
        var interrupted = new JournalEntry("0badc0de", stack.Project.Name, "web", SwapPhases.Rolling, SwapPhase.Create, "g1", "g2", "00", [new SwapContainer(web, await RotationStack.InspectAsync(web, "{{.Name}}").ContinueWith(t => t.Result.TrimStart('/'), TaskScheduler.Default), "never-created-dso-next-0badc0de")], DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(Path.Combine(stack.Agent.StateDirectory, "journal.log"), JsonSerializer.Serialize(interrupted, StateJson.Default.JournalEntry) + "\n", TestContext.Current.CancellationToken);
        await stack.Agent.StartAsync();
        await stack.Project.DsoOkAsync("status");

        // A repair from the fresh cache (a hit) after a wipe and a container event.
        Directory.Delete(secrets, recursive: true);
        await EngineFixture.DockerOkAsync("restart", "-t", "1", api);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await EngineFixture.DockerAsync("exec", api, "true")).Succeeded, 90);

        // A change: detected, rotated (rolling behind the proxy), notified (to a closed port: failed).
        stack.Set("app/web", "metrics-web-2");
        await stack.WaitForRotationsAsync("rolling", RotationResult.Rotated, 1);
        await RotationStack.WaitForAnswerAsync(stack.Port, "WEB_TOKEN=metrics-web-2");
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_notifications_total{result=\"failed\"}") >= 1, 60);

        // A connection held open through the proxy while metrics are read; then one the proxy must drop.
        using var held = new TcpClient();
        await held.ConnectAsync("127.0.0.1", stack.Port, TestContext.Current.CancellationToken);
        await held.GetStream().WriteAsync("KEEP\n"u8.ToArray(), TestContext.Current.CancellationToken);
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync($"dso_proxy_active_connections{{project=\"{stack.Project.Name}\",service=\"web\"}}") >= 1);

        // The Secrets Engine resolver answers an id (through the default realm: the files provider's app/db).
        var (seStatus, seBody) = await AgentProcess.AskSecretsEngineAsync(stack.Agent.SecretsEngineSocket!, "app/db");
        Assert.True(seStatus == 200, seBody);
        Assert.Contains(Convert.ToBase64String("metrics-db"u8), seBody, StringComparison.Ordinal);

        // The provider breaks: a rotate serves the last known good value.
        stack.Files.WriteRaw("not json");
        await stack.Project.DsoOkAsync("rotate");
        using (var request = new HttpRequestMessage(HttpMethod.Post, stack.Agent.RestUri("/v1/webhook/files")) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") })
        {
            (await stack.Agent.Rest.SendAsync(request, TestContext.Current.CancellationToken)).Dispose();
        }

        File.SetUnixFileMode(stack.Agent.Socket, (UnixFileMode)Convert.ToInt32("666", 8));
        var denied = await ChildProcess.RunAsync("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "/usr/bin/python3", "-c",
            "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ns.sendall(b'GET /v1/status HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n')\nprint(s.recv(100))", stack.Agent.Socket],
            null, TestContext.Current.CancellationToken);
        Assert.Contains("403", denied.StandardOutput, StringComparison.Ordinal);

        // A request on the secret driver's socket for a secret the engine does not know (this engine is no swarm): an Err, no value.
        var driver = await AgentProcess.AskDriverAsync(driverSocket, "{\"SecretName\":\"stray\",\"ServiceName\":\"x\"}");
        Assert.Contains("{\"Err\":\"dso: ", driver, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Value\"", driver, StringComparison.Ordinal);
        Assert.Equal("600", Convert.ToString((int)File.GetUnixFileMode(driverSocket), 8));

        // SIGHUP: dso.yaml is read again (unchanged, applied).
        var hangup = await ChildProcess.RunAsync("kill", ["-HUP", stack.Agent.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], null, TestContext.Current.CancellationToken);
        Assert.True(hangup.ExitCode == 0, hangup.StandardError);

        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_config_reloads_total{trigger=\"signal\",result=\"applied\"}") >= 1);

        var metrics = await stack.Agent.MetricsAsync();
        await EngineFixture.DockerOkAsync("stop", "-t", "1", (await stack.Project.ContainerAsync("web")));
        await AgentLifecycleTests.WaitUntilAsync(async () =>
        {
            try
            {
                await RotationStack.QueryAsync(stack.Port);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
            }

            return await stack.MetricAsync($"dso_proxy_dropped_connections_total{{project=\"{stack.Project.Name}\",service=\"web\",reason=\"no_backend\"}}") >= 1;
        });
        metrics += "\n" + string.Join('\n', (await stack.Agent.MetricsAsync()).Split('\n').Where(l => l.StartsWith("dso_proxy_dropped", StringComparison.Ordinal)));

        var documented = MetricName().Matches(await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepositoryRoot, "docs", "metrics.md"), TestContext.Current.CancellationToken))
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(documented.Count >= 26, $"only {documented.Count} metrics documented");
        foreach (var name in documented)
        {
            var series = metrics.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal) && !l.StartsWith('#')).ToList();
            Assert.True(series.Count > 0, $"{name} is documented but not exported");
            Assert.True(series.Any(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0), $"{name} never moved:\n{string.Join('\n', series)}");
        }

        Assert.Equal(1, AgentProcess.Metric(metrics, "dso_rotation_recoveries_total{action=\"rolled_back\"}"));

        // The Grafana dashboard queries only what /metrics exports.
        using var dashboard = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepositoryRoot, "dashboards", "grafana.json"), TestContext.Current.CancellationToken));
        var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!))
            .Concat(dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
                .Where(v => v.GetProperty("type").GetString() == "query").Select(v => v.GetProperty("query").GetString()!))
            .ToList();
        var used = queries.SelectMany(q => QueriedMetric().Matches(q).Select(m => m.Value)).Distinct().ToList();
        Assert.True(used.Count >= 20, $"the dashboard queries only {used.Count} metrics");
        foreach (var name in used)
        {
            Assert.True(metrics.Split('\n').Any(l => !l.StartsWith('#') && (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))), $"dashboards/grafana.json queries {name}, which /metrics does not export");
        }
    }

    [GeneratedRegex(@"\bdso_[a-z_]+")]
    private static partial Regex QueriedMetric();

    [GeneratedRegex(@"^\| `(dso_[a-z_]+)`", RegexOptions.Multiline)]
    private static partial Regex MetricName();
}
