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
/// </summary>
internal static partial class ProxyScenario
{
    private const int Rounds = 5;
    private const int Seconds = 10;
    private static readonly string[] CloseHeader = ["-H", "Connection: close"];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly (string Key, string Label)[] Paths =
    [
        ("direct", "straight to the container (baseline)"),
        ("docker-kernel", "Docker's kernel path (`--userland-proxy=false`)"),
        ("docker-proxy", "Docker's `docker-proxy`"),
        ("dso", "DSO proxy (`proxy.forwarding: userland`)"),
        ("dso-kernel", "DSO kernel forwarding (`proxy.forwarding: kernel`)"),
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

            var container = (await BenchProcess.RunAsync("docker", ["ps", "-q", "--filter", "label=com.docker.compose.project=dsobenchhttp"], new Dictionary<string, string>())).Trim();
            var address = (await BenchProcess.RunAsync("docker", ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container], new Dictionary<string, string>())).Trim();
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
            };
            foreach (var (_, url) in targets)
            {
                await WrkAsync(url, 2, close: false);
            }

            for (var round = 0; round < Rounds; round++)
            {
                foreach (var close in new[] { false, true })
                {
                    foreach (var (name, url) in targets)
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
        double Median(IEnumerable<double> values) => Percentiles.Of([.. values], 50);
        var rate = runs.ToDictionary(p => p.Key, p => Median(p.Value.Select(r => r[0])));
        var p99 = runs.ToDictionary(p => p.Key, p => Median(p.Value.Select(r => r[1])));
        string Rows(string suffix) => string.Join("\n", Paths.Select(p =>
        {
            var key = p.Key + suffix;
            var baseline = "direct" + suffix;
            var kernelPath = "docker-kernel" + suffix;
            return $"| {p.Label} | {F(rate[key])} | {F(p99[key], "0.00")} ms | {F(rate[key] / rate[baseline], "0.00")} | {F(rate[key] / rate[kernelPath], "0.00")} | {F(p99[key] / p99[baseline], "0.00")} |";
        }));
        return $"""

            ## proxy: a rolling service's host port, every path

            `wrk -t1 -c32 -d{Seconds}s --latency` from the host's loopback against a small HTTP server in a
            container (the test application's `http` mode, a 600-byte answer), {Rounds} rounds alternating
            the paths, medians; with keep-alive, and with `Connection: close` (a new TCP connection per
            request). Engine {engine} started with `--userland-proxy=false`, so a port it publishes is
            forwarded by iptables DNAT even for loopback clients — the path clients from other machines
            take on any production host. The client, the servers and the proxies share the machine's 2
            cores. **Baseline:** straight to the container's address. Targets for DSO kernel forwarding:
            throughput ≥ 0.8× the baseline and ≥ 1.0× Docker's kernel path, p99 ≤ 1.2× the baseline.

            Keep-alive:

            | path | requests/s | p99 latency | throughput / baseline | throughput / Docker's kernel path | p99 / baseline |
            |---|---:|---:|---:|---:|---:|
            {Rows(string.Empty)}

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
