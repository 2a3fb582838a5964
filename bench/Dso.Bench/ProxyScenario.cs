using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dso.Bench;

/// <summary>
/// `bench/run --only proxy`: wrk through every path a client can take to one small HTTP service on
/// the host's loopback — straight to the container (the baseline), Docker's kernel path (a port the
/// engine publishes with `--userland-proxy=false`: iptables DNAT), Docker's `docker-proxy`, DSO's
/// userland proxy and DSO's kernel forwarding — alternating, with keep-alive and with a connection
/// per request. Runs in an engine started with `--userland-proxy=false` (bench/run starts one).
/// On a shared 2-core machine a path's rate drifts by a quarter from one run to the next, more than
/// two kernel paths differ, so the scenario runs many short rounds, each round in the opposite order
/// of the one before, and compares paths by the median of their ratios within a round (the runs a
/// few seconds apart), with a 95 % interval of that median.
/// </summary>
internal static partial class ProxyScenario
{
    private const int Rounds = 15;
    private const int Seconds = 3;
    private static readonly string[] CloseHeader = ["-H", "Connection: close"];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly (string Key, string Label)[] Paths =
    [
        ("direct", "straight to the container (baseline)"),
        ("docker-kernel", "Docker's kernel path (`--userland-proxy=false`)"),
        ("docker-proxy", "Docker's `docker-proxy`"),
        ("dso", "DSO proxy (`proxy.forwarding: userland`)"),
        ("dso-kernel", "DSO kernel forwarding (`proxy.forwarding: kernel`)"),
        ("dso-kernel-direct", "straight to DSO kernel forwarding's container"),
        ("docker-kernel-direct", "straight to the container behind Docker's kernel path"),
    ];

    public static async Task<int> RunAsync(string output)
    {
        var projects = new List<(string Directory, string Name, BenchAgent Agent)>();
        var userland = Work("user");
        var kernel = Work("kernel");
        const string dockerKernel = "dsobench-kernel-path";
        var runs = new Dictionary<string, List<double[]>>();
        System.Diagnostics.Process? dockerProxy = null;
        try
        {
            await using var userlandAgent = await BenchAgent.StartAsync(userland);
            await using var kernelAgent = await BenchAgent.StartAsync(kernel, extra: "proxy:\n  forwarding: kernel\n");
            var dsoPort = BenchProcess.FreePort();
            var kernelPort = BenchProcess.FreePort();
            var dockerKernelPort = BenchProcess.FreePort();
            var dockerProxyPort = BenchProcess.FreePort();
            projects.Add(await UpAsync(userlandAgent, "dsobenchhttp", dsoPort));
            projects.Add(await UpAsync(kernelAgent, "dsobenchkern", kernelPort));
            await BenchProcess.RunAsync("docker", ["rm", "-f", dockerKernel], new Dictionary<string, string>(), check: false);
            await BenchProcess.RunAsync("docker", ["run", "-d", "--name", dockerKernel, "--label", "dso.test=true", "-p", $"127.0.0.1:{dockerKernelPort}:8080", "dso-bench/app:1", "http", "8080"], new Dictionary<string, string>());

            if ((await BenchProcess.RunAsync("pgrep", ["-f", $"docker-proxy .*-host-port {dockerKernelPort}"], new Dictionary<string, string>(), check: false)).Length > 0)
            {
                throw new InvalidOperationException("the engine forwards published ports with docker-proxy: run this scenario on an engine started with --userland-proxy=false (bench/run --only proxy starts one)");
            }

            var address = await AddressAsync("dsobenchhttp");
            var kernelAddress = await AddressAsync("dsobenchkern");
            var dockerKernelAddress = (await BenchProcess.RunAsync("docker", ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", dockerKernel], new Dictionary<string, string>())).Trim();
            // docker-proxy reports to its parent on fd 3 and then closes it: give it one, or it closes its own listener.
            dockerProxy = BenchProcess.Start("/bin/sh", ["-c", "exec /usr/sbin/docker-proxy \"$@\" 3>/dev/null", "docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", dockerProxyPort.ToString(CultureInfo.InvariantCulture), "-container-ip", address, "-container-port", "8080"], new Dictionary<string, string>());
            await Task.Delay(1000);
            var targets = new Dictionary<string, string>
            {
                ["direct"] = $"http://{address}:8080/",
                ["docker-kernel"] = $"http://127.0.0.1:{dockerKernelPort}/",
                ["docker-proxy"] = $"http://127.0.0.1:{dockerProxyPort}/",
                ["dso"] = $"http://127.0.0.1:{dsoPort}/",
                ["dso-kernel"] = $"http://127.0.0.1:{kernelPort}/",
                ["dso-kernel-direct"] = $"http://{kernelAddress}:8080/",
                ["docker-kernel-direct"] = $"http://{dockerKernelAddress}:8080/",
            };
            foreach (var (_, url) in targets)
            {
                await WrkAsync(url, 2, close: false);
            }

            // Every keep-alive round before the first round with a connection per request: those leave
            // TIME_WAIT entries on most ephemeral ports, on which a later keep-alive run's connections
            // would wait a SYN retransmission (1 s) and carry it into their p99.
            foreach (var close in new[] { false, true })
            {
                for (var round = 0; round < Rounds; round++)
                {
                    // Straight to the kernel paths' own containers only with keep-alive: with a connection per
                    // request, right after the forwarded runs, their connections would start on the TIME_WAIT
                    // entries the forwarded ones left for the same container address and port.
                    var paths = close ? targets.Where(t => !t.Key.EndsWith("-direct", StringComparison.Ordinal)).ToList() : [.. targets];
                    var order = round % 2 == 0 ? paths : Enumerable.Reverse(paths).ToList();
                    foreach (var (name, url) in order)
                    {
                        var key = close ? name + "/close" : name;
                        if (!runs.TryGetValue(key, out var list))
                        {
                            runs[key] = list = [];
                        }

                        list.Add(await WrkAsync(url, Seconds, close));
                    }
                }
            }

            // The kernel carried DSO's kernel path: its listener forwarded nothing.
            var metrics = await kernelAgent.Rest.GetStringAsync("/metrics");
            if (ListenerForwarded().Match(metrics) is { Success: true } forwarded && double.Parse(forwarded.Groups[1].Value, CultureInfo.InvariantCulture) > 0)
            {
                Console.Error.WriteLine($"warning: DSO's listener forwarded {forwarded.Groups[1].Value} connections of the kernel path");
            }

            foreach (var (directory, name, agent) in projects)
            {
                await agent.DsoAsync(directory, "down", "-p", name);
            }

            projects.Clear();
        }
        finally
        {
            dockerProxy?.Kill(entireProcessTree: true);
            await BenchProcess.RunAsync("docker", ["rm", "-f", dockerKernel], new Dictionary<string, string>(), check: false);
            foreach (var (directory, name, _) in projects)
            {
                await BenchProcess.RunAsync("docker", ["compose", "-p", name, "down", "-t", "0"], new Dictionary<string, string>(), directory, check: false);
            }
        }

        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "proxy.json"), JsonSerializer.Serialize(runs, Indented));
        var engine = (await BenchProcess.RunAsync("docker", ["version", "--format", "{{.Server.Version}}"], new Dictionary<string, string>())).Trim();
        var report = Report(runs, engine);
        File.WriteAllText(Path.Combine(output, "proxy.md"), report);
        Console.WriteLine(report);
        return 0;
    }

    private static async Task<string> AddressAsync(string project)
    {
        var container = (await BenchProcess.RunAsync("docker", ["ps", "-q", "--filter", $"label=com.docker.compose.project={project}"], new Dictionary<string, string>())).Trim();
        return (await BenchProcess.RunAsync("docker", ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container], new Dictionary<string, string>())).Trim();
    }

    private static string Work(string name)
    {
        var work = Directory.CreateTempSubdirectory($"dso-bench-proxy-{name}-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
        BenchAgent.WriteSecrets(work, new Dictionary<string, string> { ["bench/http"] = "v0" });
        return work;
    }

    private static async Task<(string Directory, string Name, BenchAgent Agent)> UpAsync(BenchAgent agent, string name, int port)
    {
        var directory = await agent.UpAsync(name, $$"""
            services:
              http:
                image: dso-bench/app:1
                command: ["http", "8080"]
                labels:
                  dso.strategy: rolling
                ports: ["127.0.0.1:{{port}}:8080"]
                environment:
                  TOKEN: dso://bench/http
            """);
        return (directory, name, agent);
    }

    /// <summary>One wrk run (1 thread, 32 connections): [requests per second, p99 latency in ms].</summary>
    internal static async Task<double[]> WrkAsync(string url, int seconds, bool close)
    {
        var text = await BenchProcess.RunAsync("wrk", ["-t1", "-c32", $"-d{seconds}s", "--latency", .. close ? CloseHeader : [], url], new Dictionary<string, string>());
        var rate = double.Parse(RequestsPerSecond().Match(text).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = P99().Match(text);
        var value = double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture);
        var ms = p99.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
        return [rate, ms];
    }

    private static string Report(Dictionary<string, List<double[]>> runs, string engine)
    {
        static string F(double v, string format = "0") => v.ToString(format, CultureInfo.InvariantCulture);
        static double Median(IEnumerable<double> values) => Percentiles.Of([.. values], 50);

        // The ratio of two paths' figures (0: requests/s, 1: p99) within each round: median and its interval.
        string Ratio(string key, string baseline, int figure)
        {
            var ratios = runs[key].Zip(runs[baseline], (a, b) => a[figure] / b[figure]).ToList();
            var (low, high) = Percentiles.MedianInterval(ratios);
            return $"{F(Median(ratios), "0.00")} ({F(low, "0.00")}–{F(high, "0.00")})";
        }

        // (DSO kernel / its container) over (Docker's kernel path / its container), round by round.
        string Normalized()
        {
            var ratios = Enumerable.Range(0, runs["dso-kernel"].Count)
                .Select(i => runs["dso-kernel"][i][0] / runs["dso-kernel-direct"][i][0] / (runs["docker-kernel"][i][0] / runs["docker-kernel-direct"][i][0]))
                .ToList();
            var (low, high) = Percentiles.MedianInterval(ratios);
            return $"{F(Median(ratios), "0.00")} ({F(low, "0.00")}–{F(high, "0.00")})";
        }

        string Rows(string suffix) => string.Join("\n", Paths.Where(p => runs.ContainsKey(p.Key + suffix)).Select(p =>
        {
            var key = p.Key + suffix;
            var samples = runs[key];
            return $"| {p.Label} | {F(Median(samples.Select(r => r[0])))} | {F(Median(samples.Select(r => r[1])), "0.00")} ms | {Ratio(key, "direct" + suffix, 0)} | {Ratio(key, "docker-kernel" + suffix, 0)} | {Ratio(key, "direct" + suffix, 1)} |";
        }));
        return $"""

            ## proxy: a rolling service's host port, every path

            `wrk -t1 -c32 -d{Seconds}s --latency` from the host's loopback against a small HTTP server in a
            container (the test application's `http` mode, a 600-byte answer); with keep-alive, and with
            `Connection: close` (a new TCP connection per request). Engine {engine} started with
            `--userland-proxy=false`, so a port it publishes is forwarded by iptables DNAT even for loopback
            clients — the path clients from other machines take on any production host. The client, the
            servers and the proxies share the machine's 2 cores, where one path's rate drifts by a quarter
            between runs: so {Rounds} rounds, each in the opposite order of the one before, and every ratio
            is the **median of the ratios within a round** (runs seconds apart), with its 95 % interval in
            brackets (order statistics); every keep-alive round runs before the first round with a
            connection per request. Rates and p99 are medians over the rounds. **Baseline:** straight
            to the address of the container behind the userland paths; DSO kernel forwarding's service
            and Docker's kernel path each have a container of their own, each also measured straight with
            keep-alive (the last rows; not with a connection per request, where those connections would
            land on the TIME_WAIT entries the forwarded ones just left for the same address). Targets for
            DSO kernel forwarding: throughput ≥ 0.8× the baseline and ≥ 1.0× Docker's kernel path (each on
            its own container: the second table), p99 ≤ 1.2× the baseline.

            Keep-alive:

            | path | requests/s | p99 latency | throughput / baseline | throughput / Docker's kernel path | p99 / baseline |
            |---|---:|---:|---:|---:|---:|
            {Rows(string.Empty)}

            Each kernel path against **its own container** (keep-alive), so that which container and core a
            path landed on cancels out: the path's rate over its container's straight rate in the same
            round, and the last column compares the two paths on that footing.

            | path | throughput / its container straight | against Docker's kernel path, each on its own container |
            |---|---:|---:|
            | Docker's kernel path (`--userland-proxy=false`) | {Ratio("docker-kernel", "docker-kernel-direct", 0)} | 1.00 |
            | DSO kernel forwarding (`proxy.forwarding: kernel`) | {Ratio("dso-kernel", "dso-kernel-direct", 0)} | {Normalized()} |

            A connection per request:

            | path | requests/s | p99 latency | throughput / baseline | throughput / Docker's kernel path | p99 / baseline |
            |---|---:|---:|---:|---:|---:|
            {Rows("/close")}

            Rerun: `bench/run --only proxy` (raw samples: `artifacts/bench/process/proxy.json`).
            """;
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"\s99%\s+([0-9.]+)(us|ms|s)")]
    private static partial Regex P99();

    [GeneratedRegex(@"dso_proxy_connections_total\{project=""dsobenchkern""[^}]*\} ([0-9.e+]+)")]
    private static partial Regex ListenerForwarded();
}
