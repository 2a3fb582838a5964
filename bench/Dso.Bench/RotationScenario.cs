using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dso.Ipc;

namespace Dso.Bench;

/// <summary>
/// Rotation as whole processes, each figure beside a baseline from the same run:
/// detection latency (a change in the provider → the rotation's start, by webhook and by polling;
/// baseline: `rotate` asked directly), DSO's own overhead in a rolling swap (total time minus the
/// new container's start-to-healthy time; baseline: that start-to-healthy time), and back-to-back
/// changes of a rolling service (baseline: an isolated change). The proxy's throughput is
/// <see cref="ProxyScenario"/>.
/// </summary>
internal static partial class RotationScenario
{
    private const int WebhookSamples = 40;
    private const int PollingSamples = 25;
    private const int SwapSamples = 20;
    private const int IsolatedSamples = 8;
    private const int BurstChanges = 20;
    private const string WebhookKey = "bench-webhook-key";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string output)
    {
        var work = Directory.CreateTempSubdirectory("dso-bench-rot-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
        var secrets = new Dictionary<string, string> { ["bench/live"] = "v0", ["bench/web"] = "v0", ["bench/http"] = "v0", ["bench/pipe"] = "pipe-0" };
        BenchAgent.WriteSecrets(work, secrets);
        var results = new Dictionary<string, object>();
        var projects = new List<(string Directory, string Name)>();
        try
        {
            // Detection by webhook (and the baseline, rotate asked directly), then the swap, on one agent.
            await using (var agent = await BenchAgent.StartAsync(
                work,
                agentKeys: "  debounce: 0s\n  watch:\n    mode: webhook\n    watch_files: false\n  rotation:\n    grace_period: 0s\n",
                apiKeys: $"    webhook_secret: {WebhookKey}\n    webhook_rate: 100000\n"))
            {
                var live = await UpAsync(agent, work, "dsobenchlive", projects, """
                    services:
                      live:
                        image: dso-bench/busybox:1
                        command: ["sleep", "2147483647"]
                        labels:
                          dso.strategy: live
                        environment:
                          TOKEN_FILE: dsofile://bench/live
                    """);
                results["rotateBaseline"] = await RotateLatencyAsync(agent, "dsobenchlive", "live", secrets, work);
                results["webhook"] = await WebhookLatencyAsync(agent, "dsobenchlive", secrets, work);

                var webPort = BenchProcess.FreePort();
                await UpAsync(agent, work, "dsobenchswap", projects, $$"""
                    services:
                      web:
                        image: dso-bench/app:1
                        command: ["serve", "8080", "TOKEN"]
                        labels:
                          dso.strategy: rolling
                        ports: ["127.0.0.1:{{webPort}}:8080"]
                        environment:
                          TOKEN: dso://bench/web
                    """);
                results["swap"] = await SwapAsync(agent);

                _ = live;
            }

            // Back-to-back changes of a rolling service that ignores SIGTERM, with the agent's default debounce and grace.
            await using (var agent = await BenchAgent.StartAsync(work, agentKeys: "  watch:\n    polling_interval: 1s\n"))
            {
                var pipelinePort = BenchProcess.FreePort();
                await UpAsync(agent, work, "dsobenchpipe", projects, $$"""
                    services:
                      pipe:
                        image: dso-bench/app:1
                        command: ["--ignore-term", "serve", "8080", "TOKEN"]
                        labels:
                          dso.strategy: rolling
                        ports: ["127.0.0.1:{{pipelinePort}}:8080"]
                        environment:
                          TOKEN: dso://bench/pipe
                    """);
                (results["pipelineIsolated"], results["pipelineBurst"]) = await PipelineAsync(agent, pipelinePort, secrets, work);
            }

            // Detection by polling: the same live service, a fresh agent that polls every 2 s.
            await using (var agent = await BenchAgent.StartAsync(work, agentKeys: "  debounce: 0s\n  watch:\n    polling_interval: 2s\n    backoff_limit: 1\n    jitter: 10\n    watch_files: false\n"))
            {
                results["polling"] = await PollingLatencyAsync(agent, "dsobenchlive", secrets, work, TimeSpan.FromSeconds(2));
            }
        }
        finally
        {
            foreach (var (directory, name) in projects)
            {
                await BenchProcess.RunAsync("docker-compose", ["-p", name, "down", "-t", "0"], new Dictionary<string, string>(), directory, check: false);
            }
        }

        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "rotation.json"), JsonSerializer.Serialize(results, Indented));
        var report = Report(results);
        File.WriteAllText(Path.Combine(output, "rotation.md"), report);
        Console.WriteLine(report);
        return 0;
    }

    private static async Task<string> UpAsync(BenchAgent agent, string work, string name, List<(string, string)> projects, string compose)
    {
        // Listed before it runs, so a failed `up` is still brought down.
        projects.Add((Path.Combine(work, name), name));
        return await agent.UpAsync(name, compose);
    }

    /// <summary>Baseline: `docker dso rotate --force` over IPC → the rotation's start event.</summary>
    private static async Task<List<double>> RotateLatencyAsync(BenchAgent agent, string project, string service, Dictionary<string, string> secrets, string work)
    {
        var samples = new List<double>();
        for (var i = 0; i < WebhookSamples; i++)
        {
            secrets["bench/live"] = $"rotate-{i}";
            BenchAgent.WriteSecrets(work, secrets);
            var sent = DateTimeOffset.UtcNow;
            using var response = await agent.Ipc.PostAsJsonAsync("/v1/rotate", new RotateRequest(project, [service], null, false), IpcJson.Wire.RotateRequest);
            response.EnsureSuccessStatusCode();
            var started = await agent.WaitForEventAsync(sent, e => e.Type == "rotation.started" && e.Project == project, TimeSpan.FromSeconds(30));
            samples.Add((started.Time - sent).TotalMilliseconds);
        }

        return samples;
    }

    /// <summary>The value changes in the provider, a signed webhook says so, and the rotation starts.</summary>
    private static async Task<List<double>> WebhookLatencyAsync(BenchAgent agent, string project, Dictionary<string, string> secrets, string work)
    {
        var samples = new List<double>();
        for (var i = 0; i < WebhookSamples; i++)
        {
            secrets["bench/live"] = $"webhook-{i}";
            var changed = DateTimeOffset.UtcNow;
            BenchAgent.WriteSecrets(work, secrets);
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            var body = Encoding.UTF8.GetBytes($"{{\"secret\":\"bench/live\",\"n\":{i}}}");
            // A webhook sender's JSON: the agent refuses the content types a web page could post cross-site.
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhook/files") { Content = content };
            request.Headers.Add("X-Dso-Timestamp", timestamp);
            request.Headers.Add("X-Dso-Signature", "sha256=" + Sign(timestamp, body));
            using var response = await agent.Rest.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var started = await agent.WaitForEventAsync(changed, e => e.Type == "rotation.started" && e.Project == project, TimeSpan.FromSeconds(30));
            samples.Add((started.Time - changed).TotalMilliseconds);
            await agent.WaitForEventAsync(started.Time, e => e.Type.StartsWith("rotation.", StringComparison.Ordinal) && e.Type != "rotation.started" && e.Project == project, TimeSpan.FromSeconds(30));
        }

        return samples;
    }

    /// <summary>The value changes at a random moment; the agent's next poll notices it.</summary>
    private static async Task<List<double>> PollingLatencyAsync(BenchAgent agent, string project, Dictionary<string, string> secrets, string work, TimeSpan interval)
    {
        await Task.Delay(interval * 2);
        var samples = new List<double>();
        for (var i = 0; i < PollingSamples; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next((int)interval.TotalMilliseconds)));
            secrets["bench/live"] = $"poll-{i}";
            var changed = DateTimeOffset.UtcNow;
            BenchAgent.WriteSecrets(work, secrets);
            var started = await agent.WaitForEventAsync(changed, e => e.Type == "rotation.started" && e.Project == project, TimeSpan.FromSeconds(60));
            samples.Add((started.Time - changed).TotalMilliseconds);
        }

        return samples;
    }

    /// <summary>Forced rolling swaps of the test app behind the proxy, with no drain grace: total time and its parts.</summary>
    private static async Task<List<Dictionary<string, double>>> SwapAsync(BenchAgent agent)
    {
        var samples = new List<Dictionary<string, double>>();
        for (var i = 0; i < SwapSamples + 1; i++)
        {
            using var response = await agent.Ipc.PostAsJsonAsync("/v1/rotate", new RotateRequest("dsobenchswap", ["web"], null, true), IpcJson.Wire.RotateRequest);
            response.EnsureSuccessStatusCode();
            var result = (await response.Content.ReadFromJsonAsync(IpcJson.Wire.RotateResponse))!.Results.Single();
            if (result.Outcome != RotationResult.Rotated)
            {
                throw new InvalidOperationException($"swap {i}: {result.Outcome}: {result.Message}");
            }

            if (i > 0)
            {
                samples.Add(new Dictionary<string, double>(result.Timings!) { ["total"] = result.DurationSeconds });
            }
        }

        return samples;
    }

    /// <summary>
    /// Change → new value served by the service, measured by a client asking through the proxy every
    /// 20 ms. Baseline: isolated changes (the next one only after the old container is gone). Then
    /// <see cref="BurstChanges"/> changes 2 s apart. Returns both samples in milliseconds.
    /// </summary>
    private static async Task<(List<double> Isolated, List<double> Burst)> PipelineAsync(BenchAgent agent, int port, Dictionary<string, string> secrets, string work)
    {
        var firstSeen = new System.Collections.Concurrent.ConcurrentDictionary<int, DateTimeOffset>();
        using var stop = new CancellationTokenSource();
        var client = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var tcp = new System.Net.Sockets.TcpClient();
                    await tcp.ConnectAsync("127.0.0.1", port, stop.Token);
                    await tcp.GetStream().WriteAsync("ONCE\n"u8.ToArray(), stop.Token);
                    using var reader = new StreamReader(tcp.GetStream());
                    var match = PipeValue().Match(await reader.ReadToEndAsync(stop.Token));
                    if (match.Success)
                    {
                        firstSeen.TryAdd(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow);
                    }
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
                {
                }

                await Task.Delay(20, CancellationToken.None);
            }
        });

        async Task<double> ServedAsync(int n, DateTimeOffset changed)
        {
            var deadline = DateTimeOffset.UtcNow.AddMinutes(3);
            while (DateTimeOffset.UtcNow < deadline)
            {
                if (firstSeen.Where(s => s.Key >= n).Select(s => (DateTimeOffset?)s.Value).Min() is { } seen)
                {
                    return (seen - changed).TotalMilliseconds;
                }

                await Task.Delay(20);
            }

            throw new TimeoutException($"pipe-{n} was never served");
        }

        async Task DrainedAsync()
        {
            var deadline = DateTimeOffset.UtcNow.AddMinutes(3);
            while (DateTimeOffset.UtcNow < deadline)
            {
                var metrics = await agent.Rest.GetStringAsync("/metrics");
                if (metrics.Split('\n').Any(l => l == "dso_draining_containers 0"))
                {
                    return;
                }

                await Task.Delay(200);
            }

            throw new TimeoutException("old containers were still draining after 3 minutes");
        }

        var n = 0;
        var isolated = new List<double>();
        for (var i = 0; i < IsolatedSamples; i++)
        {
            secrets["bench/pipe"] = $"pipe-{++n}";
            var changed = DateTimeOffset.UtcNow;
            BenchAgent.WriteSecrets(work, secrets);
            isolated.Add(await ServedAsync(n, changed));
            await DrainedAsync();
        }

        var changes = new List<(int N, DateTimeOffset At)>();
        for (var i = 0; i < BurstChanges; i++)
        {
            secrets["bench/pipe"] = $"pipe-{++n}";
            changes.Add((n, DateTimeOffset.UtcNow));
            BenchAgent.WriteSecrets(work, secrets);
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var burst = new List<double>();
        foreach (var (number, at) in changes)
        {
            burst.Add(await ServedAsync(number, at));
        }

        await DrainedAsync();
        await stop.CancelAsync();
        await client;
        return (isolated, burst);
    }

    private static string Sign(string timestamp, byte[] body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(WebhookKey));
        hmac.AppendData(Encoding.ASCII.GetBytes(timestamp + "."));
        hmac.AppendData(body);
        return Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    private static string Report(Dictionary<string, object> results)
    {
        static string F(double v, string format = "0") => v.ToString(format, CultureInfo.InvariantCulture);
        var rotate = (List<double>)results["rotateBaseline"];
        var webhook = (List<double>)results["webhook"];
        var polling = (List<double>)results["polling"];
        var swaps = (List<Dictionary<string, double>>)results["swap"];
        double P(List<double> s, double p) => Percentiles.Of(s, p);
        var isolated = (List<double>)results["pipelineIsolated"];
        var burst = (List<double>)results["pipelineBurst"];
        var overhead = swaps.Select(s => (s["total"] - s["start_to_healthy"]) * 1000).ToList();
        var toSwitch = swaps.Select(s => (s["resolve"] + s["prepare"] + s["create"] + s["switch"]) * 1000).ToList();
        var healthy = swaps.Select(s => s["start_to_healthy"] * 1000).ToList();
        var total = swaps.Select(s => s["total"] * 1000).ToList();
        var create = swaps.Select(s => s["create"] * 1000).ToList();
        double Median(IEnumerable<double> values) => Percentiles.Of([.. values], 50);
        return $"""

            ## rotation: detection latency, swap overhead, back-to-back changes

            The installed agent with a `file` provider, `agent.debounce: 0s` (the debounce window adds to
            detection by design; 5 s by default). Each latency is from the moment the benchmark changed the
            value in the provider to the agent's `rotation.started` event (same host clock).
            **Baseline:** `docker dso rotate` asked over IPC right after the change (no detection at all).
            Targets: webhook p99 ≤ 1 s; polling p99 ≤ interval + 1 s.

            | trigger | samples | p50 | p99 | ratio p50 / baseline p50 |
            |---|---:|---:|---:|---:|
            | `rotate` over IPC (baseline) | {rotate.Count} | {F(P(rotate, 50), "0.0")} ms | {F(P(rotate, 99), "0.0")} ms | 1.00 |
            | signed webhook | {webhook.Count} | {F(P(webhook, 50), "0.0")} ms | {F(P(webhook, 99), "0.0")} ms | {F(P(webhook, 50) / P(rotate, 50), "0.00")} |
            | polling every 2 s (backoff off, 10 % jitter) | {polling.Count} | {F(P(polling, 50))} ms | {F(P(polling, 99))} ms | {F(P(polling, 50) / P(rotate, 50), "0.0")} |

            Rolling swap of a one-container service behind the proxy (the test application, ready when it
            accepts TCP), forced {swaps.Count} times, `grace_period: 0s`, timings from each rotation's result.
            **Baseline:** the new container's own start-to-healthy time (engine start plus the application).
            DSO's overhead is everything else: resolving, the generation of secrets, creating the container
            (the engine's create call, {F(Median(create))} ms median of it), switching and renaming. The old
            container drains, stops and goes in the background, after the rotation has released the service.
            Target: overhead p50 ≤ 500 ms.

            | measure | p50 | p99 | ratio p50 / baseline p50 |
            |---|---:|---:|---:|
            | new container start → healthy (baseline) | {F(P(healthy, 50))} ms | {F(P(healthy, 99))} ms | 1.00 |
            | DSO overhead (total − start→healthy) | {F(P(overhead, 50))} ms | {F(P(overhead, 99))} ms | {F(P(overhead, 50) / P(healthy, 50), "0.00")} |
            | of it, until the service is released (clients are on the new container, names swapped) | {F(P(toSwitch, 50))} ms | {F(P(toSwitch, 99))} ms | {F(P(toSwitch, 50) / P(healthy, 50), "0.00")} |
            | total rotation | {F(P(total, 50))} ms | {F(P(total, 99))} ms | {F(P(total, 50) / P(healthy, 50), "0.00")} |

            Back-to-back changes: a rolling service whose process ignores SIGTERM (the engine kills it 10 s
            after `docker stop`, as with busybox `httpd` as PID 1), the agent's defaults (debounce 5 s from a
            service's first change, drain grace 10 s), the provider's file watched. From the moment the value
            changed to the first answer carrying it (or a newer one) from a client asking through the proxy
            every 20 ms. **Baseline:** an isolated change (the next one only once the old container is gone).
            Target: p99 ≤ debounce + 1 s.

            | changes | samples | p50 | p99 | ratio p50 / baseline p50 |
            |---|---:|---:|---:|---:|
            | isolated (baseline) | {isolated.Count} | {F(P(isolated, 50))} ms | {F(P(isolated, 99))} ms | 1.00 |
            | every 2 s | {burst.Count} | {F(P(burst, 50))} ms | {F(P(burst, 99))} ms | {F(P(burst, 50) / P(isolated, 50), "0.00")} |

            Rerun: `bench/run --only rotation` (raw samples: `artifacts/bench/process/rotation.json`).
            """;
    }

    [GeneratedRegex(@"TOKEN=pipe-([0-9]+)")]
    private static partial Regex PipeValue();

}
