using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dso.Bench;

/// <summary>
/// The agent under load, as whole processes: `docker-dso agent` with a `file` provider of 1,000
/// secrets, measured twice in one run — as users run it (the installed docker-dso hands over to the
/// native dso-agent) and, as the baseline, inside docker-dso on the JIT runtime (the same build with
/// no dso-agent beside it). Memory is read from /proc idle and with 100 managed containers using 10
/// secrets each; IPC latency of `status` is measured beside the REST /health round trip (the same
/// server, no work); then a soak of the native agent changes a secret every 10 s — a real change in
/// the provider, detected and rotated by a rolling swap behind the proxy — and samples memory to fit
/// a slope.
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
        var work = Directory.CreateTempSubdirectory("dso-bench-agent-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
        var values = new Dictionary<string, string>();
        for (var i = 0; i < Projects * ServicesPerProject * SecretsPerService; i++)
        {
            values[$"bench/s{i:D4}"] = $"value-{i}-{Guid.NewGuid():N}";
        }

        values["bench/rotating"] = "rotation-0";
        BenchAgent.WriteSecrets(work, values);
        var results = new Dictionary<string, object>
        {
            ["baseline"] = await MeasureAsync(BenchProcess.InProcessCli, "docker-dso", Path.Combine(work, "jit"), work, values, soakMinutes: 0),
            ["native"] = await MeasureAsync(BenchProcess.Cli, "dso-agent", Path.Combine(work, "native"), work, values, soakMinutes),
        };

        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "agent.json"), JsonSerializer.Serialize(results, Indented));
        File.WriteAllText(Path.Combine(output, "agent.md"), Report(results));
        Console.WriteLine(Report(results));
        return 0;
    }

    /// <summary>One agent through idle, 100 containers, latency and (when asked) the soak.</summary>
    /// <param name="cli">The docker-dso whose `agent` is measured.</param>
    /// <param name="executable">The program the agent's process must be running (what is measured).</param>
    /// <param name="run">This agent's own directory (socket, state, projects).</param>
    /// <param name="work">Where the provider's secrets.json is.</param>
    /// <param name="values">The provider's secrets; the soak changes one.</param>
    /// <param name="soakMinutes">How long to soak; 0 skips it.</param>
    private static async Task<Dictionary<string, object>> MeasureAsync(string cli, string executable, string run, string work, Dictionary<string, string> values, double soakMinutes)
    {
        Directory.CreateDirectory(run);
        File.SetUnixFileMode(run, (UnixFileMode)Convert.ToInt32("755", 8));
        var socket = Path.Combine(run, "dso.sock");
        var port = 18000 + Random.Shared.Next(1000);
        var config = Path.Combine(run, "dso.yaml");
        var name = Path.GetFileName(run);
        File.WriteAllText(config, $"agent:\n  socket: {socket}\n  state_dir: {run}/state\n  secrets_dir: /dev/shm/dso-bench-agent-{name}\n  debounce: 1s\n  rotation:\n    grace_period: 1s\n  api:\n    address: 127.0.0.1:{port}\nproviders:\n  files:\n    type: file\n    path: {BenchAgent.SecretsFile(work)}\n");
        var environment = new Dictionary<string, string> { ["DSO_AGENT_SOCKET"] = socket, ["DSO_INIT"] = BenchProcess.Launcher };
        using var agent = BenchProcess.Start(cli, ["agent", "--config", config, "--log-level", "warning"], environment);
        using var rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var ipc = Dso.Ipc.UnixSocketHttp.Create(socket);
        var results = new Dictionary<string, object>();
        var projects = new List<(string Directory, string Name)>();
        try
        {
            await BenchProcess.WaitReadyAsync(rest);
            results["executable"] = Path.GetFileName(File.ResolveLinkTarget($"/proc/{agent.Id}/exe", returnFinalTarget: false)?.FullName ?? "?");
            if ((string)results["executable"] != executable)
            {
                throw new InvalidOperationException($"{cli} agent runs {results["executable"]}, not {executable}: run scripts/install.sh");
            }

            await Task.Delay(TimeSpan.FromSeconds(10));
            results["idle"] = Memory(agent.Id);
            results["idleLatency"] = await LatencyAsync(ipc, rest);

            for (var p = 0; p < Projects; p++)
            {
                var project = Path.Combine(run, $"p{p}");
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
                projects.Add((project, $"dsobench{name}{p}"));
                await BenchProcess.RunAsync(cli, ["up", "-d", "-p", $"dsobench{name}{p}"], environment, project);
            }

            var rotating = Path.Combine(run, "rotating");
            Directory.CreateDirectory(rotating);
            File.WriteAllText(Path.Combine(rotating, "compose.yaml"), $"services:\n  web:\n    image: dso-bench/app:1\n    command: [\"serve\", \"8080\", \"TOKEN\"]\n    labels:\n      dso.strategy: rolling\n    ports: [\"127.0.0.1:{BenchProcess.FreePort()}:8080\"]\n    environment:\n      TOKEN: dso://bench/rotating\n");
            projects.Add((rotating, $"dsobench{name}rotating"));
            await BenchProcess.RunAsync(cli, ["up", "-d", "-p", $"dsobench{name}rotating"], environment, rotating);

            await Task.Delay(TimeSpan.FromSeconds(10));
            results["loaded"] = Memory(agent.Id);
            results["loadedLatency"] = await LatencyAsync(ipc, rest);
            if (soakMinutes > 0)
            {
                results["soak"] = await SoakAsync(work, values, rest, agent.Id, soakMinutes);
            }
        }
        finally
        {
            foreach (var (directory, project) in projects)
            {
                await BenchProcess.RunAsync(cli, ["down", "-t", "0", "-p", project], environment, directory, check: false);
            }

            agent.Kill();
        }

        return results;
    }

    private static async Task<Dictionary<string, object>> SoakAsync(string work, Dictionary<string, string> values, HttpClient rest, int pid, double soakMinutes)
    {
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
                samples.Add((watch.Elapsed.TotalMinutes, Memory(pid).RssKb));
            }

            await Task.Delay(TimeSpan.FromSeconds(10));
        }

        var rotated = await RotationsAsync(rest);
        var settled = samples.Where(s => s.Minutes >= Math.Min(2, soakMinutes / 3)).ToList();
        // Warm-up (the GC heap growing to the size this load needs) is over well before half-time: a
        // leak keeps rising through the second half, a heap at its working size does not.
        var secondHalf = samples.Where(s => s.Minutes >= soakMinutes / 2).ToList();
        return new Dictionary<string, object>
        {
            ["minutes"] = Math.Round(watch.Elapsed.TotalMinutes, 1),
            ["changes"] = refreshes,
            ["rotations"] = rotated,
            ["secretsPerRefresh"] = values.Count,
            ["samples"] = samples.Select(s => new[] { Math.Round(s.Minutes, 2), s.Kb }).ToList(),
            ["slopeKbPerMinute"] = settled.Count > 1 ? Math.Round(Percentiles.Slope(settled), 1) : 0,
            ["secondHalfSlopeKbPerMinute"] = secondHalf.Count > 1 ? Math.Round(Percentiles.Slope(secondHalf), 1) : 0,
            ["secondHalfMinKb"] = secondHalf.Count > 0 ? secondHalf.Min(s => s.Kb) : 0,
            ["secondHalfMaxKb"] = secondHalf.Count > 0 ? secondHalf.Max(s => s.Kb) : 0,
            ["peakKb"] = samples.Count > 0 ? samples.Max(s => s.Kb) : 0,
            ["firstKb"] = samples.FirstOrDefault().Kb,
            ["lastKb"] = samples.LastOrDefault().Kb,
        };
    }

    private static string Report(Dictionary<string, object> results)
    {
        var baseline = (Dictionary<string, object>)results["baseline"];
        var native = (Dictionary<string, object>)results["native"];
        var baseIdle = (MemoryReading)baseline["idle"];
        var baseLoaded = (MemoryReading)baseline["loaded"];
        var idle = (MemoryReading)native["idle"];
        var loaded = (MemoryReading)native["loaded"];
        var idleLatency = (LatencyReading)native["idleLatency"];
        var loadedLatency = (LatencyReading)native["loadedLatency"];
        var soak = (Dictionary<string, object>)native["soak"];
        static string Mb(double kb) => (kb / 1024).ToString("0.0", CultureInfo.InvariantCulture);
        static string Ms(double ms) => ms.ToString("0.00", CultureInfo.InvariantCulture);
        static string Ratio(double value, double over) => (value / over).ToString("0.00", CultureInfo.InvariantCulture);
        return $"""

            ## agent: memory, IPC latency, soak

            `docker-dso agent` (the installed one) with a `file` provider of {Projects * ServicesPerProject * SecretsPerService:N0} secrets: it hands over to the
            native `{native["executable"]}` beside it. **Baseline:** the same docker-dso build with no dso-agent beside it,
            whose agent runs inside `{baseline["executable"]}` on the JIT runtime (how the agent ran before it had its own
            executable). Memory is read from `/proc/PID/status` (RSS) and `smaps_rollup` (private dirty pages: what the
            process itself wrote), idle and with {Projects * ServicesPerProject} managed containers ({Projects} projects × {ServicesPerProject} services × {SecretsPerService} references,
            registered with `docker dso up`). Targets: RSS at most 60 MB idle and 150 MB loaded.

            | agent | state | RSS | private dirty | ratio (RSS / baseline RSS) |
            |---|---|---:|---:|---:|
            | in docker-dso, JIT (baseline) | idle | {Mb(baseIdle.RssKb)} MB | {Mb(baseIdle.PrivateDirtyKb)} MB | 1.00 |
            | native dso-agent | idle | {Mb(idle.RssKb)} MB | {Mb(idle.PrivateDirtyKb)} MB | {Ratio(idle.RssKb, baseIdle.RssKb)} |
            | in docker-dso, JIT (baseline) | 100 containers, 1,000 secrets | {Mb(baseLoaded.RssKb)} MB | {Mb(baseLoaded.PrivateDirtyKb)} MB | 1.00 |
            | native dso-agent | 100 containers, 1,000 secrets | {Mb(loaded.RssKb)} MB | {Mb(loaded.PrivateDirtyKb)} MB | {Ratio(loaded.RssKb, baseLoaded.RssKb)} |

            IPC latency of the native agent, {LatencyRequests:N0} sequential requests each, one client. **Baseline:** `GET /health` on
            the agent's REST address (the same server doing no work).

            | request | p50 | p99 | ratio p50 / baseline p50 |
            |---|---:|---:|---:|
            | REST `GET /health` (baseline), idle | {Ms(idleLatency.BaselineP50)} ms | {Ms(idleLatency.BaselineP99)} ms | 1.00 |
            | IPC `GET /v1/status`, idle | {Ms(idleLatency.StatusP50)} ms | {Ms(idleLatency.StatusP99)} ms | {Ratio(idleLatency.StatusP50, idleLatency.BaselineP50)} |
            | REST `GET /health` (baseline), loaded | {Ms(loadedLatency.BaselineP50)} ms | {Ms(loadedLatency.BaselineP99)} ms | 1.00 |
            | IPC `GET /v1/status`, 100 services | {Ms(loadedLatency.StatusP50)} ms | {Ms(loadedLatency.StatusP99)} ms | {Ratio(loadedLatency.StatusP50, loadedLatency.BaselineP50)} |

            Soak of the native agent: {soak["minutes"]} minutes with the 100 containers above; every 10 s one secret changes in the
            provider's file of {soak["secretsPerRefresh"]:N0} (the file watch makes the agent check them all), and its service — the
            test application behind the proxy — is rotated by a rolling swap: {soak["changes"]} changes, {soak["rotations"]} rotations
            done. RSS went from {Mb((double)soak["firstKb"])} MB to {Mb((double)soak["lastKb"])} MB (peak {Mb((double)soak["peakKb"])} MB); least-squares slope after the first two
            minutes: {soak["slopeKbPerMinute"]} KB/minute; over the second half, once the heap has grown to what this load needs:
            **{soak["secondHalfSlopeKbPerMinute"]} KB/minute**, RSS between {Mb((double)soak["secondHalfMinKb"])} and {Mb((double)soak["secondHalfMaxKb"])} MB. Samples: `artifacts/bench/process/agent.json`.

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
