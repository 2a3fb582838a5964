using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dso.Bench;

/// <summary>
/// The agent under load, as whole processes: the installed docker-dso runs the agent with a `file`
/// provider of 1,000 secrets; its memory is read from /proc idle and with 100 managed containers
/// using 10 secrets each; IPC latency of `status` is measured beside the REST /health round trip
/// (the baseline: the same server, no work); then a soak changes a secret every 10 s — a real
/// change in the provider, detected and rotated by a rolling swap behind the proxy — and samples
/// memory to fit a slope.
/// </summary>
public static class AgentScenario
{
    private const int Projects = 10;
    private const int ServicesPerProject = 10;
    private const int SecretsPerService = 10;
    private const int LatencyRequests = 2000;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string output, double soakMinutes)
    {
        var cli = BenchProcess.Cli;
        var work = Directory.CreateTempSubdirectory("dso-bench-agent-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
        var secrets = Path.Combine(work, "secrets.json");
        var values = new Dictionary<string, string>();
        for (var i = 0; i < Projects * ServicesPerProject * SecretsPerService; i++)
        {
            values[$"bench/s{i:D4}"] = $"value-{i}-{Guid.NewGuid():N}";
        }

        values["bench/rotating"] = "rotation-0";
        BenchAgent.WriteSecrets(work, values);
        var socket = Path.Combine(work, "dso.sock");
        var port = 18000 + Random.Shared.Next(1000);
        var config = Path.Combine(work, "dso.yaml");
        File.WriteAllText(config, $"agent:\n  socket: {socket}\n  state_dir: {work}/state\n  secrets_dir: /dev/shm/dso-bench-agent\n  debounce: 1s\n  rotation:\n    grace_period: 1s\n  api:\n    address: 127.0.0.1:{port}\nproviders:\n  files:\n    type: file\n    path: {secrets}\n");
        var environment = new Dictionary<string, string> { ["DSO_AGENT_SOCKET"] = socket, ["DSO_INIT"] = BenchProcess.Launcher };
        using var agent = BenchProcess.Start(cli, ["agent", "--config", config, "--log-level", "warning"], environment);
        using var rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var ipc = Dso.Ipc.UnixSocketHttp.Create(socket);
        var results = new Dictionary<string, object>();
        try
        {
            await BenchProcess.WaitReadyAsync(rest);
            await Task.Delay(TimeSpan.FromSeconds(10));
            results["idle"] = Memory(agent.Id);
            results["idleLatency"] = await LatencyAsync(ipc, rest);

            for (var p = 0; p < Projects; p++)
            {
                var project = Path.Combine(work, $"p{p}");
                Directory.CreateDirectory(project);
                var compose = new StringBuilder("services:\n");
                for (var s = 0; s < ServicesPerProject; s++)
                {
                    compose.Append(CultureInfo.InvariantCulture, $"  s{s}:\n    image: dso-bench/busybox:1\n    command: [\"sleep\", \"2147483647\"]\n    environment:\n");
                    for (var k = 0; k < SecretsPerService; k++)
                    {
                        var index = (((p * ServicesPerProject) + s) * SecretsPerService) + k;
                        compose.Append(CultureInfo.InvariantCulture, $"      S{k}: dso://bench/s{index:D4}\n");
                    }
                }

                File.WriteAllText(Path.Combine(project, "compose.yaml"), compose.ToString());
                await BenchProcess.RunAsync(cli, ["up", "-d", "-p", $"dsobench{p}"], environment, project);
            }

            var rotating = Path.Combine(work, "rotating");
            Directory.CreateDirectory(rotating);
            File.WriteAllText(Path.Combine(rotating, "compose.yaml"), $"services:\n  web:\n    image: dso-bench/app:1\n    command: [\"serve\", \"8080\", \"TOKEN\"]\n    labels:\n      dso.strategy: rolling\n    ports: [\"127.0.0.1:{BenchProcess.FreePort()}:8080\"]\n    environment:\n      TOKEN: dso://bench/rotating\n");
            await BenchProcess.RunAsync(cli, ["up", "-d", "-p", "dsobenchrotating"], environment, rotating);

            await Task.Delay(TimeSpan.FromSeconds(10));
            results["loaded"] = Memory(agent.Id);
            results["loadedLatency"] = await LatencyAsync(ipc, rest);

            var samples = new List<(double Minutes, double Kb)>();
            var watch = Stopwatch.StartNew();
            var refreshes = 0;
            while (watch.Elapsed.TotalMinutes < soakMinutes)
            {
                values["bench/rotating"] = $"rotation-{refreshes + 1}";
                BenchAgent.WriteSecrets(work, values);
                refreshes++;
                if (refreshes % 3 == 0)
                {
                    samples.Add((watch.Elapsed.TotalMinutes, Memory(agent.Id).RssKb));
                }

                await Task.Delay(TimeSpan.FromSeconds(10));
            }

            var rotated = await RotationsAsync(rest);
            var settled = samples.Where(s => s.Minutes >= Math.Min(2, soakMinutes / 3)).ToList();
            results["soak"] = new Dictionary<string, object>
            {
                ["minutes"] = Math.Round(watch.Elapsed.TotalMinutes, 1),
                ["changes"] = refreshes,
                ["rotations"] = rotated,
                ["secretsPerRefresh"] = values.Count,
                ["samples"] = samples.Select(s => new[] { Math.Round(s.Minutes, 2), s.Kb }).ToList(),
                ["slopeKbPerMinute"] = settled.Count > 1 ? Math.Round(Percentiles.Slope(settled), 1) : 0,
                ["firstKb"] = samples.FirstOrDefault().Kb,
                ["lastKb"] = samples.LastOrDefault().Kb,
            };
        }
        finally
        {
            for (var p = 0; p < Projects; p++)
            {
                var project = Path.Combine(work, $"p{p}");
                if (Directory.Exists(project))
                {
                    await BenchProcess.RunAsync(cli, ["down", "-t", "0", "-p", $"dsobench{p}"], environment, project, check: false);
                }
            }

            if (Directory.Exists(Path.Combine(work, "rotating")))
            {
                await BenchProcess.RunAsync(cli, ["down", "-t", "0", "-p", "dsobenchrotating"], environment, Path.Combine(work, "rotating"), check: false);
            }

            agent.Kill();
        }

        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "agent.json"), JsonSerializer.Serialize(results, Indented));
        File.WriteAllText(Path.Combine(output, "agent.md"), Report(results));
        Console.WriteLine(Report(results));
        return 0;
    }

    private static string Report(Dictionary<string, object> results)
    {
        var idle = (MemoryReading)results["idle"];
        var loaded = (MemoryReading)results["loaded"];
        var idleLatency = (LatencyReading)results["idleLatency"];
        var loadedLatency = (LatencyReading)results["loadedLatency"];
        var soak = (Dictionary<string, object>)results["soak"];
        static string Mb(double kb) => (kb / 1024).ToString("0.0", CultureInfo.InvariantCulture);
        static string Ms(double ms) => ms.ToString("0.00", CultureInfo.InvariantCulture);
        return $"""

            ## agent: memory, IPC latency, soak

            The installed `docker-dso agent` with a `file` provider of {Projects * ServicesPerProject * SecretsPerService:N0} secrets. Memory is read from
            `/proc/PID/status` (RSS) and `smaps_rollup` (private dirty pages: what the process itself wrote),
            idle and with {Projects * ServicesPerProject} managed containers ({Projects} projects × {ServicesPerProject} services × {SecretsPerService} references,
            registered with `docker dso up`). Targets: RSS at most 60 MB idle and 150 MB loaded.

            | state | RSS | private dirty | ratio (RSS / idle RSS) |
            |---|---:|---:|---:|
            | idle | {Mb(idle.RssKb)} MB | {Mb(idle.PrivateDirtyKb)} MB | 1.00 |
            | 100 containers, 1,000 secrets | {Mb(loaded.RssKb)} MB | {Mb(loaded.PrivateDirtyKb)} MB | {(loaded.RssKb / idle.RssKb).ToString("0.00", CultureInfo.InvariantCulture)} |

            IPC latency, {LatencyRequests:N0} sequential requests each, one client. **Baseline:** `GET /health` on the agent's
            REST address (the same server doing no work).

            | request | p50 | p99 | ratio p50 / baseline p50 |
            |---|---:|---:|---:|
            | REST `GET /health` (baseline), idle | {Ms(idleLatency.BaselineP50)} ms | {Ms(idleLatency.BaselineP99)} ms | 1.00 |
            | IPC `GET /v1/status`, idle | {Ms(idleLatency.StatusP50)} ms | {Ms(idleLatency.StatusP99)} ms | {(idleLatency.StatusP50 / idleLatency.BaselineP50).ToString("0.00", CultureInfo.InvariantCulture)} |
            | REST `GET /health` (baseline), loaded | {Ms(loadedLatency.BaselineP50)} ms | {Ms(loadedLatency.BaselineP99)} ms | 1.00 |
            | IPC `GET /v1/status`, 100 services | {Ms(loadedLatency.StatusP50)} ms | {Ms(loadedLatency.StatusP99)} ms | {(loadedLatency.StatusP50 / loadedLatency.BaselineP50).ToString("0.00", CultureInfo.InvariantCulture)} |

            Soak: {soak["minutes"]} minutes with the 100 containers above; every 10 s one secret changes in the
            provider's file of {soak["secretsPerRefresh"]:N0} (the file watch makes the agent check them all), and its service — the
            test application behind the proxy — is rotated by a rolling swap: {soak["changes"]} changes, {soak["rotations"]} rotations
            done. RSS went from {Mb((double)soak["firstKb"])} MB to {Mb((double)soak["lastKb"])} MB; least-squares slope after the first two
            minutes: **{soak["slopeKbPerMinute"]} KB/minute**. Samples: `artifacts/bench/process/agent.json`.

            Rerun: `bench/run --only agent --soak-minutes 30`.
            """;
    }

    private static async Task<LatencyReading> LatencyAsync(HttpClient ipc, HttpClient rest)
    {
        for (var i = 0; i < 100; i++)
        {
            (await ipc.GetAsync("/v1/status")).Dispose();
            (await rest.GetAsync("/health")).Dispose();
        }

        var status = new List<double>();
        var health = new List<double>();
        for (var i = 0; i < LatencyRequests; i++)
        {
            var watch = Stopwatch.StartNew();
            (await ipc.GetAsync("/v1/status")).Dispose();
            status.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            (await rest.GetAsync("/health")).Dispose();
            health.Add(watch.Elapsed.TotalMilliseconds);
        }

        return new LatencyReading(Percentiles.Of(status, 50), Percentiles.Of(status, 99), Percentiles.Of(health, 50), Percentiles.Of(health, 99));
    }

    private static MemoryReading Memory(int pid)
    {
        double Field(string file, string name) => File.ReadLines(file).Where(l => l.StartsWith(name, StringComparison.Ordinal))
            .Select(l => double.Parse(l[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture)).First();
        return new MemoryReading(Field($"/proc/{pid}/status", "VmRSS:"), Field($"/proc/{pid}/smaps_rollup", "Private_Dirty:"));
    }

    /// <summary>Rotations the agent counts as rotated, from its metrics.</summary>
    private static async Task<double> RotationsAsync(HttpClient rest) =>
        (await rest.GetStringAsync("/metrics")).Split('\n')
            .Where(l => l.StartsWith("dso_rotations_total{", StringComparison.Ordinal) && l.Contains("result=\"rotated\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private sealed record MemoryReading(double RssKb, double PrivateDirtyKb);

    private sealed record LatencyReading(double StatusP50, double StatusP99, double BaselineP50, double BaselineP99);
}
