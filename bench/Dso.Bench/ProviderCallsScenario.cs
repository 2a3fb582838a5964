using System.Globalization;
using System.Text;
using System.Text.Json;
using Dso.Configuration;
using Dso.Fakes;
using Dso.Providers;
using Dso.Providers.Plugins;

namespace Dso.Bench;

/// <summary>
/// What polling 1,000 secrets every 30 s costs the provider over an hour, counted by the fake
/// Secrets Manager: naive polling (every value read on its own at every poll), batched reads at
/// every poll, and the installed agent (DescribeSecret version checks with adaptive backoff,
/// values read only when a version moved, in batches). The agent's hour is compressed 30×
/// (polling every 1 s for 120 s: intervals, backoff and jitter scale with the polling interval);
/// the two baselines are counted over 3 polls and scaled to the hour's 120 polls.
/// </summary>
public static class ProviderCallsScenario
{
    private const int Secrets = 1000;
    private const int Changes = 10;
    private const int PollsPerHour = 3600 / 30;
    private const int BaselinePolls = 3;
    private static readonly TimeSpan Hour = TimeSpan.FromSeconds(120);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string output)
    {
        var work = Directory.CreateTempSubdirectory("dso-bench-calls-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
        BenchAgent.WriteSecrets(work, new Dictionary<string, string> { ["unused"] = "x" });
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        var names = Enumerable.Range(0, Secrets).Select(i => $"bench/s{i:D4}").ToList();
        var current = names.ToDictionary(n => n, n => aws.Put(n, $"value-{n}-{Guid.NewGuid():N}"));
        var provider = new ProviderConfig
        {
            Type = "aws",
            Region = FakeSecretsManager.Region,
            Endpoint = aws.Address.ToString(),
            Auth = new ProviderAuthConfig { Method = "static", Params = new() { ["access_key_id"] = FakeSecretsManager.AccessKey, ["secret_access_key"] = FakeSecretsManager.SecretKey } },
        };

        var results = new Dictionary<string, Counts>
        {
            ["naive"] = await BaselineAsync(aws, provider, [.. names.Select(n => new SecretRequest(n, current[n]))]),
            ["batched"] = await BaselineAsync(aws, provider, [.. names.Select(n => new SecretRequest(n, null))]),
            ["agent"] = await AgentHourAsync(aws, work, names),
        };

        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "provider-calls.json"), JsonSerializer.Serialize(results, Indented));
        var report = Report(results);
        File.WriteAllText(Path.Combine(output, "provider-calls.md"), report);
        Console.WriteLine(report);
        Directory.Delete(work, recursive: true);
        return 0;
    }

    /// <summary>A poller without DSO's checks, through the same aws plugin: every secret read at every poll (pinned requests are read one by one, current ones in batches of 20).</summary>
    private static async Task<Counts> BaselineAsync(FakeSecretsManager aws, ProviderConfig provider, IReadOnlyList<SecretRequest> requests)
    {
        var command = Environment.GetEnvironmentVariable("DSO_BENCH_CLI") ?? BenchProcess.Cli;
        var host = new PluginHost(Environment.GetEnvironmentVariable, null, TimeProvider.System, command);
        using var plugin = new PluginProvider("aws", "aws", new PluginLaunch(command, ["provider-plugin", "aws"], PluginLaunch.EnvironmentFor([], Environment.GetEnvironmentVariable)), BackendConfig.Write(provider), TimeSpan.FromSeconds(60), host, []);
        var before = Counts.Of(aws);
        for (var poll = 0; poll < BaselinePolls; poll++)
        {
            foreach (var answer in await plugin.ResolveAsync(requests, CancellationToken.None))
            {
                if (answer.Value is null)
                {
                    throw new InvalidOperationException($"the fake did not answer: {answer.Error}");
                }

                answer.Value.Dispose();
            }
        }

        return (Counts.Of(aws) - before).Scaled((double)PollsPerHour / BaselinePolls);
    }

    /// <summary>The installed agent polling every 1 s (30 s compressed 30×) for 120 s, one service consuming all 1,000 secrets, 10 of them changed during the hour.</summary>
    private static async Task<Counts> AgentHourAsync(FakeSecretsManager aws, string work, List<string> names)
    {
        var cloud = $"  cloud:\n    type: aws\n    region: {FakeSecretsManager.Region}\n    endpoint: {aws.Address}\n    auth:\n      method: static\n      params:\n        access_key_id: {FakeSecretsManager.AccessKey}\n        secret_access_key: {FakeSecretsManager.SecretKey}\n";
        await using var agent = await BenchAgent.StartAsync(work, agentKeys: "  debounce: 1s\n  watch:\n    polling_interval: 1s\n", extra: cloud);
        var project = Path.Combine(work, "calls");
        Directory.CreateDirectory(project);
        var compose = new StringBuilder($"services:\n  app:\n    image: dso-bench/busybox:1\n    command: [\"sleep\", \"3600\"]\n    labels:\n      dso.strategy: live\n    environment:\n");
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            compose.Append(CultureInfo.InvariantCulture, $"      S{i:D4}_FILE: dsofile://cloud:{name}\n");
        }

        File.WriteAllText(Path.Combine(project, "compose.yaml"), compose.ToString());
        try
        {
            await agent.DsoAsync(project, "up", "-d", "-p", "dsobenchcalls");
            await Task.Delay(TimeSpan.FromSeconds(2));
            var before = Counts.Of(aws);
            var started = DateTime.UtcNow;
            // Changes in the middle of each tenth of the hour, so the last one is noticed within it too.
            for (var change = 0; change < Changes; change++)
            {
                await Task.Delay(change == 0 ? Hour / Changes / 2 : Hour / Changes);
                aws.Put(names[change * (names.Count / Changes)], $"changed-{change}-{Guid.NewGuid():N}");
            }

            var left = Hour - (DateTime.UtcNow - started);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left);
            }

            return Counts.Of(aws) - before;
        }
        finally
        {
            await agent.DsoAsync(project, "down", "-t", "0", "-p", "dsobenchcalls");
        }
    }

    private static string Report(Dictionary<string, Counts> results)
    {
        var naive = results["naive"];
        static string N(double n) => n.ToString("N0", CultureInfo.InvariantCulture);
        string Row(string what, Counts c) =>
            $"| {what} | {N(c.Calls)} | {N(c.ValueReads)} | {(c.ValueReads / naive.ValueReads).ToString("0.0000", CultureInfo.InvariantCulture)} | {(naive.ValueReads / Math.Max(1, c.ValueReads)).ToString("0", CultureInfo.InvariantCulture)}× |";
        return $"""

            ## providers: calls per hour for 1,000 secrets polled every 30 s

            Provider calls and value reads in one hour of polling 1,000 secrets every 30 s, counted by the
            fake Secrets Manager; {Changes} of the secrets change during the hour. **Baseline:** naive polling, each
            value read on its own (`GetSecretValue`) at every poll. The agent's hour is run compressed 30×
            (`polling_interval: 1s` for 120 s; backoff and jitter scale with the interval); the baselines
            are counted over {BaselinePolls} polls through the same plugin and scaled to the hour's {PollsPerHour} polls.
            Target: at least 10× fewer value reads than naive polling.

            | poller | provider calls / hour | values read / hour | ratio (values read / baseline) | fewer value reads |
            |---|---:|---:|---:|---:|
            {Row("naive: `GetSecretValue` per secret per poll (baseline)", naive)}
            {Row("batched: `BatchGetSecretValue` (20 per call) every poll", results["batched"])}
            {Row("DSO agent: `DescribeSecret` checks with backoff, batched reads of changed values", results["agent"])}

            Calls by action (agent): {string.Join(", ", results["agent"].ByAction.Where(a => a.Value > 0).Select(a => $"{a.Key} {N(a.Value)}"))}.

            Rerun: `bench/run --only providers` (raw counts: `artifacts/bench/process/provider-calls.json`).

            """;
    }

    public sealed record Counts(double Calls, double ValueReads, Dictionary<string, double> ByAction)
    {
        private static readonly string[] Actions = ["GetSecretValue", "BatchGetSecretValue", "DescribeSecret", "ListSecrets", "ListSecretVersionIds"];

        public static Counts Of(FakeSecretsManager aws)
        {
            var by = Actions.ToDictionary(a => a, a => (double)aws.Calls(a));
            return new Counts(by.Values.Sum(), aws.ValuesRead, by);
        }

        public static Counts operator -(Counts a, Counts b) =>
            new(a.Calls - b.Calls, a.ValueReads - b.ValueReads, a.ByAction.ToDictionary(x => x.Key, x => x.Value - b.ByAction[x.Key]));

        public Counts Scaled(double factor) => new(Calls * factor, ValueReads * factor, ByAction.ToDictionary(x => x.Key, x => x.Value * factor));
    }
}
