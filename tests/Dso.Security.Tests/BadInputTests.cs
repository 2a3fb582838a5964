using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dso.Agent.Rest;
using Dso.Agent.Tests;
using Dso.Cli.Tests;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Security.Tests;

/// <summary>
/// The bad-input table: each row is an input a user or a peer can send, the one line DSO must
/// answer with, the exit code (or HTTP status), and the proof that nothing changed. The rows are
/// the data of docs/bad-input.md, which is generated from them (DSO_WRITE_DOCS=1 rewrites it).
/// </summary>
public sealed class BadInputTests
{
    private const string Key = "hook-key";

    /// <summary>One command-line case: files written into a fresh home with a vault holding app/db, a command, what it must say.</summary>
    internal sealed record CliCase(string Area, string Input, string[] Args, string Expected, int Exit, (string Name, string Content)[] Files, Action<VaultCliFixture>? Prepare = null, string? Stdin = null, string? Absent = null);

    /// <summary>A provider plugin that breaks the protocol (tests/plugins/chaos_plugin.py in a mode), checked by `docker dso provider test`: the line of the failing check.</summary>
    internal sealed record PluginCase(string Input, string Mode, string Expected);

    /// <summary>A cloud provider's fake answering every secrets request with a fault, read by `docker dso validate`: the line it must print.</summary>
    internal sealed record ProviderCase(string Type, string Input, Dso.Fakes.Fault Fault, string Expected);

    /// <summary>
    /// One start of the native agent (dso-agent, as `docker dso agent` runs it) in a directory whose
    /// dso.yaml is valid unless the row writes its own: what it must say, its exit code.
    /// </summary>
    internal sealed record AgentStartCase(string Input, string[] Args, string Expected, int Exit, string? Config = null);

    /// <summary>One request to a running agent: the error it must answer with and its status.</summary>
    internal sealed record AgentCase(string Area, string Input, string Expected, int Status, Func<AgentProcess, Task<HttpResponseMessage>> Send, string? Request = null);

    private static (string, string)[] Compose(string text) => [("compose.yaml", text)];

    private static (string, string)[] Config(string text) => [("dso.yaml", text)];

    internal static IReadOnlyList<CliCase> CliCases { get; } =
    [
        new("compose file", "a YAML syntax error", ["validate"], "compose.yaml:3:1: YAML error:", 1, Compose("services:\n  api: [x\n")),
        new("compose file", "a list at the top level", ["validate"], "the top level must be a mapping of keys to values", 1, Compose("- api\n")),
        new("compose file", "a merge key naming an undefined anchor", ["validate"], "names an anchor that is not defined", 1, Compose("services:\n  api:\n    <<: *base\n    image: x\n")),
        new("compose file", "a service that extends itself through another", ["validate"], "compose.yaml:3: service a extends itself (through a, b)", 1, Compose("services:\n  a:\n    extends: b\n  b:\n    extends: a\n")),
        new("compose file", "an env_file that does not exist", ["validate"], "missing.env of service api does not exist", 1, Compose("services:\n  api:\n    image: x\n    env_file: missing.env\n")),
        new("compose file", "an interpolation never closed", ["validate"], "'${' is never closed", 1, Compose("services:\n  api:\n    image: busybox:${TAG\n")),
        new("compose file", "an empty file", ["validate"], "the file is empty", 1, Compose(string.Empty)),
        new("compose file", "environment that is neither a map nor a list", ["validate"], "compose.yaml:4: environment of service api must be a mapping or a list of KEY=VALUE", 1, Compose("services:\n  api:\n    image: x\n    environment: 5\n")),
        new("reference", "file options on an env reference", ["validate"], "file options (?mode=…) apply to dsofile:// references only", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB: dso://app/db?mode=0400\n")),
        new("reference", "a mode that is not octal", ["validate"], "invalid reference 'dsofile://app/db?mode=999'", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB_FILE: dsofile://app/db?mode=999\n")),
        new("reference", "a reference without a path", ["validate"], "invalid reference 'dso://'", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB: dso://\n")),
        new("reference", "a path that climbs with ..", ["validate"], "invalid reference 'dso://app/../etc'", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB: dso://app/../etc\n")),
        new("reference", "a provider that is not configured", ["validate"], "provider 'nope' is not configured", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB: dso://nope:app/db\n")),
        new("reference", "a secret the vault does not hold", ["validate"], "no secret named app/missing", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB: dso://app/missing\n")),
        new("reference", "a line break inside a reference", ["validate"], "invalid reference 'dso://app/db\\x0anext'", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB: \"dso://app/db\\nnext\"\n")),
        new("dso.yaml", "an unknown key", ["config", "validate"], "dso: dso.yaml:1: agnt is not a known key (known: ", 1, Config("agnt:\n  socket: /tmp/x\n")),
        new("dso.yaml", "a duration that is not one", ["config", "validate"], "dso.yaml:2: agent.debounce 'soon' is not a duration (write 500ms, 30s, 5m or 1h)", 1, Config("agent:\n  debounce: soon\n")),
        new("dso.yaml", "a value outside the allowed ones", ["config", "validate"], "dso.yaml:2: logging.level 'loud' is not one of trace, debug, info, warning, error", 1, Config("logging:\n  level: loud\n")),
        new("dso.yaml", "a provider without a type", ["config", "validate"], "providers.v has no type (one of local, file, vault, aws, azure, huawei, plugin)", 1, Config("providers:\n  v:\n    endpoint: https://vault:8200\n")),
        new("dso.yaml", "an API address that is not host:port", ["config", "validate"], "agent.api.address 'nowhere' is not host:port with a numeric IP", 1, Config("agent:\n  api:\n    address: nowhere\n")),
        new("dso.yaml", "a YAML syntax error", ["config", "validate"], "dso.yaml:2:1: YAML error: While parsing a node, did not find expected node content.", 1, Config("agent: [\n")),
        new("dso.yaml", "a key this version does not know", ["config", "validate"], "providers.v.address is not a known key of providers.v (known: type, ", 1, Config("providers:\n  v:\n    type: vault\n    address: https://vault:8200\n")),
        new("dso.yaml", "a dso.secrets label naming no secrets: entry", ["validate"], "service api, label dso.secrets: dso.yaml has no secrets entry named 'nope' (it has db); add it under secrets: or fix the label", 1, [("dso.yaml", "secrets:\n  - name: db\n    mappings:\n      DB: app/db\n"), ("compose.yaml", "services:\n  api:\n    image: x\n    labels:\n      dso.secrets: nope\n")]),
        new("dso.yaml", "a mapped variable the compose file sets too", ["validate"], "service api, DB has a value and dso.yaml: secrets[0] (db).mappings.DB maps it too; leave it empty (DB: \"\") or remove it from one of them", 1, [("dso.yaml", "secrets:\n  - name: db\n    targets:\n      containers: [api]\n    mappings:\n      DB: app/db\n"), ("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      DB: plain-text\n")]),
        new("dso.yaml", "a notification URL that is not http(s)", ["config", "validate"], "notifications.webhooks[0].url must be an http:// or https:// address", 1, Config("notifications:\n  webhooks:\n    - url: ftp://hooks.example/x\n")),
        new("vault file", "a vault file of garbage", ["secret", "get", "app/db"], "is not a DSO vault (its first bytes are not the vault magic)", 1, [], cli => File.WriteAllBytes(cli.VaultPath, RandomNumberGenerator.GetBytes(300))),
        new("vault file", "an empty vault file", ["secret", "get", "app/db"], "is empty (0 bytes); it was left untouched", 1, [], cli => File.WriteAllBytes(cli.VaultPath, [])),
        new("vault file", "a vault cut short", ["secret", "get", "app/db"], "fails its integrity check", 1, [], cli => File.WriteAllBytes(cli.VaultPath, File.ReadAllBytes(cli.VaultPath)[..^7])),
        new("vault file", "a key file of another vault", ["secret", "get", "app/db"], "wrong key, or the vault header was modified; the file was left untouched", 1, [], cli => File.WriteAllText(cli.KeyPath, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n")),
        new("vault file", "a key file of the wrong size", ["secret", "get", "app/db"], "does not hold a 256-bit key", 1, [], cli => File.WriteAllBytes(cli.KeyPath, [1, 2, 3])),
        new("vault file", "one flipped bit in a secret's ciphertext", ["secret", "get", "app/db"], "fails its integrity check: it was modified or damaged after it was written", 1, [], cli =>
        {
            var bytes = File.ReadAllBytes(cli.VaultPath);
            bytes[^20] ^= 0x01;
            File.WriteAllBytes(cli.VaultPath, bytes);
        }),
        new("command line", "secret set without a name", ["secret", "set"], "dso: Required argument missing for command: 'set'.", 2, []),
        new("command line", "a secret name with spaces", ["secret", "set", "Bad Name!"], "dso: invalid secret name 'Bad Name!'", 1, [], Stdin: "v"),
        new("command line", "--from-file that does not exist", ["secret", "set", "app/x", "--from-file", "/nonexistent/value"], "dso: --from-file /nonexistent/value: no such file", 1, []),
        new("command line", "a secret that does not exist", ["secret", "get", "app/nope"], "no secret named app/nope", 1, []),
        new("command line", "a version that was never kept", ["secret", "get", "app/db@99"], "secret app/db has no version 99 in vault", 1, []),
        new("command line", "a shell DSO does not complete", ["completion", "tcsh"], "'tcsh' is not a shell DSO completes (bash, zsh or fish)", 2, []),
        new("command line", "a command that does not exist", ["frobnicate"], "dso: Unrecognized command or argument 'frobnicate'.", 2, []),
        new("command line", "migrate with a prefix that is not a name", ["migrate", "--project", "Bad Prefix!"], "dso: --project 'Bad Prefix!': ", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      DB_PASSWORD: pw\n")),
        new("command line", "import of a dotenv file with a bad line", ["secret", "import", "bad.env"], "bad.env:2:", 1, [("bad.env", "GOOD=1\nthis is not a line\n")]),
        new("command line", "import of a file that does not exist", ["secret", "import", "missing.env"], "missing.env: no such file", 1, []),
        new("dotenv", "a line of a PEM body in an env file (the line is never quoted back)", ["secret", "import", "key.env"], "key.env:2:53: expected '=' after the variable name", 1, [("key.env", "A=1\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n")], Absent: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"),
        new("dotenv", "an env_file whose quote is never closed, read by validate", ["validate"], "key.env:1:8: the value's opening \" is never closed", 1, [("key.env", "SECRET=\"ghp_R4nd0mT0k3nV4lu3s3cr3t\n"), ("compose.yaml", "services:\n  api:\n    image: x\n    env_file: key.env\n")], Absent: "R4nd0mT0k3n"),
        new("dotenv", "a .env with a bad line, read by migrate", ["migrate", "--dry-run"], ".env:1:1: expected a variable name", 1, [(".env", "9ghp_R4nd0mT0k3nV4lu3s3cr3t=x\n"), ("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n")], Absent: "R4nd0mT0k3n"),
        new("dso.yaml", "a plugin allow-list naming the vault's key", ["config", "validate"], "providers.p.env: DSO_MASTER_KEY unlocks the local vault and is never passed to a provider's process; remove it from the list", 1, Config("providers:\n  p:\n    type: plugin\n    command: /usr/bin/true\n    env: [DSO_MASTER_KEY]\n")),
        new("dso.yaml", "a checkout whose dso.yaml names a program, checked without --allow-providers", ["validate"], "not checked: provider p (type plugin) is configured by ./dso.yaml, in the project being checked, and validate starts or contacts no provider a project configures unless --allow-providers is given", 1, [("dso.yaml", "providers:\n  p:\n    type: plugin\n    command: /usr/bin/true\n"), ("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      DB: dso://p:app/db\n")]),
        new("dso.yaml", "an endpoint an environment variable fills with something that is not a URL (the value is not printed)", ["config", "validate"], "'${AWS_SECRET_ACCESS_KEY}' is not an http(s) URL", 1, Config("providers:\n  v:\n    type: vault\n    endpoint: ${AWS_SECRET_ACCESS_KEY}\n"), cli => cli.Environment["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMIK7MDENGbPxRfiCY", Absent: "wJalrXUtnFEMI"),
        new("command line", "a new passphrase shorter than 8 characters in DSO_NEW_PASSPHRASE", ["rekey", "--passphrase"], "dso: DSO_NEW_PASSPHRASE is shorter than 8 characters (spaces not counted); a vault's passphrase must be at least 8, nothing was changed", 1, [], cli => cli.Environment["DSO_NEW_PASSPHRASE"] = "short   \t  "),
        new("reference", "a file name DSO keeps for itself", ["validate"], "the file name '.dso-manifest' is reserved for DSO's own files", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      M_FILE: dsofile://app/.dso-manifest\n")),
        new("reference", "an se:// id with a wildcard", ["validate"], "service api, TOKEN: invalid reference 'se://docker/*': the id 'docker/*' has the character '*'", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      TOKEN: se://docker/*\n")),
        new("reference", "an se:// id with ':' that no realm maps", ["validate"], "se://team:ops/token maps to the path 'team:ops/token' (realms \"**\"), and ':' cannot be part of a provider path; map the id to a path with realms: in dso.yaml", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      TOKEN: se://team:ops/token\n")),
        new("dso.yaml", "a realm pattern with a wildcard inside a component", ["config", "validate"], "dso.yaml: realms.\"docker/db*\": the pattern 'docker/db*' has the component 'db*'; a wildcard is a whole component, * (one) or ** (any number)", 1, Config("realms:\n  \"docker/db*\": {path: prod/db}\n")),
        new("reference", "two secrets that would be the same file", ["validate"], "would both be the file 'db'; add ?name=OTHER to one of them", 1, Compose("services:\n  api:\n    image: x\n    environment:\n      A_FILE: dsofile://app/db\n      B_FILE: dsofile://other/db\n")),
    ];

    internal static IReadOnlyList<PluginCase> PluginCases { get; } =
    [
        new("an answer that is not JSON", "garbage", "FAIL  resolve            plugin under test broke the protocol: the message is not valid JSON; it will be restarted"),
        new("an answer over the 1 MiB line limit", "huge", "FAIL  resolve            plugin under test stopped talking (a message is longer than 1048576 bytes (the protocol's limit)); it will be restarted"),
        new("an answer with another request's id", "wrong-id", "FAIL  resolve            resolve must answer a result with the request's id"),
        new("a plugin that dies while answering", "crash", "FAIL  resolve            plugin under test exited (exit code 9); it will be restarted"),
        new("a plugin that exits before the handshake", "exit-at-start", "FAIL  initialize         plugin under test exited (exit code 3); it will be restarted"),
    ];

    internal static IReadOnlyList<ProviderCase> ProviderCases { get; } =
    [
        new("aws", "HTTP 500 from Secrets Manager", new(Dso.Fakes.FaultKind.Status, 500), "Secrets Manager BatchGetSecretValue: InternalServiceError: An error occurred on the server side."),
        new("aws", "a body that is not JSON", new(Dso.Fakes.FaultKind.Garbage), "Secrets Manager's answer to BatchGetSecretValue is not JSON (HTTP 200"),
        new("vault", "HTTP 403 from Vault", new(Dso.Fakes.FaultKind.Status, 403), "Vault denied access to app/token (permission denied); check the token's policy"),
        new("vault", "an answer larger than the limit", new(Dso.Fakes.FaultKind.Oversized), "Vault's answer is over 512 KiB"),
        new("azure", "HTTP 503 from Key Vault", new(Dso.Fakes.FaultKind.Status, 503), "Key Vault 127.0.0.1 answered 503 for token"),
        new("huawei", "an answer slower than the provider's timeout", new(Dso.Fakes.FaultKind.Slow, Delay: TimeSpan.FromSeconds(10)), "CSMS at 127.0.0.1 did not answer within"),
    ];

    internal static IReadOnlyList<AgentStartCase> AgentStartCases { get; } =
    [
        new("an argument it does not take", ["--config", "dso.yaml", "--confg", "other.yaml"], "dso-agent: unknown argument '--confg'", 2),
        new("a log level that is not one", ["--config", "dso.yaml", "--log-level", "loud"], "dso-agent: 'loud' is not a log level (trace, debug, info, warning or error)", 2),
        new("--config without a file", ["--config"], "dso-agent: --config needs a value", 2),
        new("a dso.yaml with an unknown key", ["--config", "dso.yaml"], "dso: dso.yaml:1: agnt is not a known key (known: ", 1, "agnt:\n  socket: /tmp/x\n"),
        new("a dso.yaml that does not exist", ["--config", "missing.yaml"], "missing.yaml: no such file", 1),
    ];

    internal static IReadOnlyList<AgentCase> AgentCases { get; } =
    [
        new("IPC request", "a registration that is not JSON", "the registration is not valid JSON", 400, agent => Ipc(agent, "/v1/projects", "{not json")),
        new("IPC request", "an empty registration", "the registration is empty", 400, agent => Ipc(agent, "/v1/projects", "null")),
        new("IPC request", "a client of another IPC version", "this agent speaks IPC version", 400, agent => Ipc(agent, "/v1/projects", "{}", version: 99)),
        new("IPC request", "a rotate request that is not JSON", "the rotate request is not valid JSON", 400, agent => Ipc(agent, "/v1/rotate", "[1,")),
        new("IPC request", "a rotation of a project the agent does not manage", "the agent manages no project ghost", 404, agent => Ipc(agent, "/v1/rotate", "{\"project\":\"ghost\",\"services\":[],\"force\":false}")),
        new("webhook request", "no signature", "missing or malformed X-Dso-Signature", 401, agent => Webhook(agent, "files", "{}", timestamp: Now(), signature: null)),
        new("webhook request", "a wrong signature", "the signature does not match", 401, agent => Webhook(agent, "files", "{}", timestamp: Now(), signature: "sha256=" + new string('0', 64))),
        new("webhook request", "a timestamp ten minutes old", "X-Dso-Timestamp is more than 5 minutes from the agent's clock", 401, agent => Webhook(agent, "files", "{}", timestamp: Now(-600))),
        new("webhook request", "a body over the limit", "the body is over", 413, agent => Webhook(agent, "files", new string('x', WebhookVerifier.MaxBodyBytes + 1), timestamp: Now())),
        new("webhook request", "a provider that is not configured", "no provider named ghost is configured", 404, agent => Webhook(agent, "ghost", "{}", timestamp: Now())),
        new("webhook request", "an unsigned notice for a provider that is not configured (no name is confirmed)", "missing or malformed X-Dso-Signature", 401, agent => Webhook(agent, "ghost", "{}", timestamp: Now(), signature: null)),
        new("webhook request", "a notice sent as text/plain, as a web page could", "send POST requests with 'Content-Type: application/json'", 403, agent => Webhook(agent, "files", "{}", timestamp: Now(), contentType: "text/plain")),
        new("REST request", "a socket-only route asked over TCP in another case", "is served on the agent's socket only", 404, agent => agent.Rest.GetAsync(agent.RestUri("/V1/status"), TestContext.Current.CancellationToken), "`GET /V1/status` on the REST port"),
        new("REST request", "a request whose Host is a name (DNS rebinding)", "is a name, not an address", 403, agent => Rebound(agent), "`GET /metrics` with `Host: attacker.example`"),
        new("IPC request", "a registration missing its fields", "the registration has no name, directory, files or services", 400, agent => Ipc(agent, "/v1/projects", "{}")),
        new("IPC request", "a registration with a null where a value must be", "the registration is not valid JSON", 400, agent => Ipc(agent, "/v1/projects", "{\"name\":null,\"directory\":\"/x\",\"files\":[],\"services\":[]}")),
        new("IPC request", "a registration with a file name DSO keeps for itself", "is reserved for DSO's own files", 400, agent => Ipc(agent, "/v1/projects", Registration("dsofile://app/.dso-manifest", "dsofile://app/db"))),
        new("IPC request", "a registration whose se:// id is a pattern", "se://docker/*: the id 'docker/*' has the character '*'", 400, agent => Ipc(agent, "/v1/projects", "{\"name\":\"app\",\"directory\":\"/srv/app\",\"files\":[\"/srv/app/compose.yaml\"],\"services\":[{\"name\":\"api\",\"uid\":0,\"gid\":0,\"references\":[{\"variable\":\"A\",\"reference\":\"dso://app/db\",\"where\":\"compose.yaml:5\",\"secretsEngineId\":\"docker/*\"}]}]}")),
        new("IPC request", "a registration whose reference asks for a strategy the agent does not have", "service api, A: strategy 'explode' is not one of live, signal, restart, rolling, none", 400, agent => Ipc(agent, "/v1/projects", "{\"name\":\"app\",\"directory\":\"/srv/app\",\"files\":[\"/srv/app/compose.yaml\"],\"services\":[{\"name\":\"api\",\"uid\":0,\"gid\":0,\"references\":[{\"variable\":\"A\",\"reference\":\"dso://app/db\",\"where\":\"compose.yaml:5\",\"rotation\":{\"strategy\":\"explode\"}}]}]}")),
        new("IPC request", "a registration with two secrets that would be the same file", "would both be the file 'db'", 400, agent => Ipc(agent, "/v1/projects", Registration("dsofile://app/db", "dsofile://other/db"))),
    ];

    public static TheoryData<int> CliRows => [.. Enumerable.Range(0, CliCases.Count)];

    public static TheoryData<int> AgentRows => [.. Enumerable.Range(0, AgentCases.Count)];

    public static TheoryData<int> AgentStartRows => [.. Enumerable.Range(0, AgentStartCases.Count)];

    public static TheoryData<int> PluginRows => [.. Enumerable.Range(0, PluginCases.Count)];

    public static TheoryData<int> ProviderRows => [.. Enumerable.Range(0, ProviderCases.Count)];

    [Theory]
    [MemberData(nameof(ProviderRows))]
    public async Task ProviderResponses(int row)
    {
        var c = ProviderCases[row];
        using var dir = new TempDirectory("dso-bad-provider-");
        await using var fake = await Dso.Fakes.CloudFake.StartAsync(c.Type, dir.Path);
        fake.Put(fake.Secret, "the-value-in-the-cloud");
        using var cli = new VaultCliFixture(extraEnvironment: fake.Environment);
        cli.WriteFile("dso.yaml", "providers:\n" + fake.Section("cloud") + "    timeout: 2s\n    retry:\n      attempts: 1\n");
        cli.WriteFile("compose.yaml", $"services:\n  api:\n    image: x\n    environment:\n      TOKEN: dso://cloud:{fake.Secret}\n");
        fake.Secrets.Inject(c.Fault);
        var before = Snapshot(cli.Home);

        // The user's own project: the provider is theirs to contact.
        var run = await cli.RunAsync("validate", "--allow-providers");

        Assert.True(run.ExitCode == 1, $"{c.Input}: {run}");
        var line = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains(c.Expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("the-value-in-the-cloud", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        AssertUnchanged(before, Snapshot(cli.Home));
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Figures.Record("G9", "wrong inputs answered with one line and a non-zero exit, every file of the home byte-identical afterwards", "provider response");
    }

    [Theory]
    [MemberData(nameof(PluginRows))]
    public async Task PluginMessages(int row)
    {
        var c = PluginCases[row];
        using var cli = new VaultCliFixture();
        var mode = cli.WriteFile("chaos.mode", c.Mode + "\n");
        var before = Snapshot(cli.Home);

        var run = await cli.RunAsync("provider", "test", "--secret", "a/b", "--", "python3", Path.Combine(TestEnvironment.RepositoryRoot, "tests", "plugins", "chaos_plugin.py"), mode);

        Assert.True(run.ExitCode == 1, $"{c.Input}: {run}");
        var line = Assert.Single(run.StandardOutput.Split('\n'), l => l.StartsWith(c.Expected, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        Assert.Empty(run.StandardError);
        Assert.EndsWith(" failed (protocol version 1)\n", run.StandardOutput, StringComparison.Ordinal);
        AssertUnchanged(before, Snapshot(cli.Home));
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Figures.Record("G9", "wrong inputs answered with one line and a non-zero exit, every file of the home byte-identical afterwards", "plugin message");
    }

    [Theory]
    [MemberData(nameof(CliRows))]
    public async Task CommandLine(int row)
    {
        var c = CliCases[row];
        using var cli = new VaultCliFixture();
        await cli.SetAsync("app/db", "the-value-of-app-db");
        foreach (var (name, content) in c.Files)
        {
            cli.WriteFile(name, content);
        }

        c.Prepare?.Invoke(cli);
        var before = Snapshot(cli.Home);

        var run = await cli.RunAsync(c.Stdin is null ? null : Encoding.UTF8.GetBytes(c.Stdin), c.Args);

        Assert.True(run.ExitCode == c.Exit, $"{c.Input}: {run}");
        var line = Assert.Single(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains(c.Expected, StringComparison.Ordinal) || l.StartsWith(c.Expected, StringComparison.Ordinal));
        // A command fails with `dso: …`; validate lists each reference it cannot resolve as `error: …`.
        Assert.True(line.StartsWith("dso: ", StringComparison.Ordinal) || (c.Args[0] == "validate" && line.StartsWith("error: ", StringComparison.Ordinal)), line);
        // Nothing else on stderr, but the pointer to --help after a usage error.
        Assert.DoesNotContain(run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l != line && !(c.Exit == 2 && l.StartsWith("Run 'docker dso ", StringComparison.Ordinal)));
        Assert.DoesNotContain("the-value-of-app-db", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
        if (c.Absent is { } absent)
        {
            Assert.DoesNotContain(absent, run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        }

        AssertUnchanged(before, Snapshot(cli.Home));
        Figures.Record("G9", "wrong inputs answered with one line and a non-zero exit, every file of the home byte-identical afterwards", c.Area);
    }

    [Theory]
    [MemberData(nameof(AgentStartRows))]
    public async Task AgentStarts(int row)
    {
        var c = AgentStartCases[row];
        var agent = Path.Combine(AppContext.BaseDirectory, Dso.Agent.Hosting.AgentMain.ExecutableName);
        if (!File.Exists(agent))
        {
            var message = $"{agent} is missing: run scripts/build-native.sh, then build the tests (scripts/test.sh does both)";
            Assert.SkipWhen(!TestEnvironment.IsCi, message);
            Assert.Fail(message);
        }

        using var dir = new TempDirectory("dso-bad-agent-start-");
        dir.WriteFile("dso.yaml", c.Config ?? $"agent:\n  socket: {dir.Combine("dso.sock")}\n  state_dir: {dir.Combine("state")}\n  secrets_dir: /dev/shm/dso-bad-agent-start-{row}\n");
        var before = Snapshot(dir.Path);

        var run = await Dso.Processes.ChildProcess.RunAsync(agent, c.Args, new Dso.Processes.ChildProcessOptions { WorkingDirectory = dir.Path }, TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == c.Exit, $"{c.Input}: exit {run.ExitCode}: {run.StandardError}");
        var lines = run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.Contains(c.Expected, StringComparison.Ordinal));
        Assert.True(line.StartsWith("dso: ", StringComparison.Ordinal) || line.StartsWith("dso-agent: ", StringComparison.Ordinal), line);
        // Nothing else on stderr, but the usage line after a wrong argument.
        Assert.DoesNotContain(lines, l => l != line && !(c.Exit == 2 && l == Dso.Agent.Hosting.AgentMain.Usage));
        Assert.Empty(run.StandardOutput);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
        AssertUnchanged(before, Snapshot(dir.Path));
        Assert.False(Directory.Exists($"/dev/shm/dso-bad-agent-start-{row}"), "the agent made its RAM directory");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Figures.Record("G9", "wrong inputs answered with one line and a non-zero exit, every file of the home byte-identical afterwards", "agent start");
    }

    [Fact]
    public async Task AgentRequests()
    {
        using var dir = new TempDirectory("dso-bad-agent-");
        dir.WriteFile("secrets.json", "{\"app/db\": \"the-value-of-app-db\"}");
        await using var agent = new AgentProcess(dir, $"    webhook_secret: {Key}\nproviders:\n  files:\n    type: file\n    path: {dir.Combine("secrets.json")}\n");
        await agent.StartAsync();
        var before = Snapshot(agent.StateDirectory);

        foreach (var c in AgentCases)
        {
            using var response = await c.Send(agent);
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True((int)response.StatusCode == c.Status, $"{c.Area}, {c.Input}: HTTP {(int)response.StatusCode} {body}");
            var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
            Assert.Contains(c.Expected, error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error);
        }

        var metrics = await agent.MetricsAsync();
        Assert.Equal(0, AgentProcess.Metric(metrics, "dso_rotations_total{strategy=\"restart\",result=\"rotated\"}"));
        Assert.DoesNotContain("the-value-of-app-db", agent.Output, StringComparison.Ordinal);
        var status = await agent.Ipc().GetStringAsync(new Uri("http://localhost/v1/status"), TestContext.Current.CancellationToken);
        Assert.Empty(JsonSerializer.Deserialize(status, IpcJson.Wire.StatusReport)!.Projects);
        AssertUnchanged(before, Snapshot(agent.StateDirectory), ignore: "audit.log");
    }

    [Fact]
    public void BadInputDoc_IsGeneratedFromTheseRows()
    {
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "docs", "bad-input.md");
        var expected = Document();
        if (Environment.GetEnvironmentVariable("DSO_WRITE_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
            return;
        }

        Assert.True(File.Exists(path) && File.ReadAllText(path) == expected, "docs/bad-input.md is out of date: run DSO_WRITE_DOCS=1 dotnet test --project tests/Dso.Security.Tests");
        var rows = CliCases.Count + AgentStartCases.Count + PluginCases.Count + ProviderCases.Count + AgentCases.Count;
        Assert.True(rows >= 40, $"the table has {rows} rows");
    }

    private static string Document()
    {
        static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        var text = new StringBuilder();
        text.Append("# Bad input\n\n")
            .Append("What DSO answers when the input is wrong: one line that says what, where and how to fix it, a\n")
            .Append("non-zero exit code (or an HTTP error status), and nothing changed. Generated from the rows of\n")
            .Append("`tests/Dso.Security.Tests/BadInputTests.cs`, which CI runs; `DSO_WRITE_DOCS=1 dotnet test --project\n")
            .Append("tests/Dso.Security.Tests` rewrites this file.\n\n")
            .Append("Each command-line row runs in a new home whose vault holds `app/db`; the test checks the exit code,\n")
            .Append("that exactly one stderr line (starting `dso: `, or `error: ` for each reference `validate` cannot\n")
            .Append("resolve) holds the expected text, that no stack trace and no\n")
            .Append("value is printed (nor, where a row names one, a piece of the input that may be a secret), and that every file of the home (the vault and its key included) has the same\n")
            .Append("bytes afterwards. Agent start rows run the native agent `dso-agent` (what `docker dso agent` becomes)\n")
            .Append("in a new directory with a valid dso.yaml unless the row gives one; the test checks the exit code, the\n")
            .Append("one line (and the usage line after a wrong argument), and that the directory is byte-identical and no\n")
            .Append("RAM directory was made. Agent request rows go to a running agent over its Unix socket or its REST port; the test\n")
            .Append("checks the status and the one-line `error` of the JSON answer, then that the agent registered no\n")
            .Append("project, rotated nothing, logged no value and changed no file of its state directory (its audit log\n")
            .Append("aside, which records refused requests). Plugin rows run `docker dso provider test` against\n")
            .Append("`tests/plugins/chaos_plugin.py` in one of its modes and check the line of the check that fails, the\n")
            .Append("exit code, an empty stderr and an unchanged home. Provider rows point a provider (timeout 2 s, one\n")
            .Append("attempt) at the fake of its cloud (tests/Dso.Fakes) answering every secrets request with the fault,\n")
            .Append("run `docker dso validate --allow-providers`, and check the one `error:` line, that the value is not printed and an\n")
            .Append("unchanged home. Fuzzing the same readers: `FuzzTests` (10,000\n")
            .Append("cases each).\n\n")
            .Append("| area | input | command or request | answer contains | exit / status |\n|---|---|---|---|---|\n");
        foreach (var c in CliCases)
        {
            text.Append($"| {c.Area} | {Cell(c.Input)} | `docker dso {Cell(string.Join(' ', c.Args))}` | `{Cell(c.Expected)}` | {c.Exit} |\n");
        }

        foreach (var c in AgentStartCases)
        {
            text.Append($"| agent start | {Cell(c.Input)} | `dso-agent {Cell(string.Join(' ', c.Args))}`{(c.Config is null ? string.Empty : $" (dso.yaml: `{Cell(c.Config)}`)")} | `{Cell(c.Expected)}` | {c.Exit} |\n");
        }

        foreach (var c in PluginCases)
        {
            text.Append($"| plugin message | {Cell(c.Input)} | `docker dso provider test --secret a/b -- chaos_plugin.py` ({c.Mode}) | `{Cell(c.Expected)}` | 1 |\n");
        }

        foreach (var c in ProviderCases)
        {
            text.Append($"| provider response | {Cell(c.Input)} | `docker dso validate --allow-providers` against the {c.Type} fake | `{Cell(c.Expected)}` | 1 |\n");
        }

        foreach (var c in AgentCases)
        {
            text.Append($"| {c.Area} | {Cell(c.Input)} | {c.Request ?? (c.Area == "IPC request" ? "IPC socket" : "`POST /v1/webhook/…`")} | `{Cell(c.Expected)}` | HTTP {c.Status} |\n");
        }

        return text.ToString();
    }

    private static string Now(int offsetSeconds = 0) => (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + offsetSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Task<HttpResponseMessage> Ipc(AgentProcess agent, string path, string body, int version = IpcProtocol.Version)
    {
        var client = agent.Ipc(version);
        return client.PostAsync(new Uri("http://localhost" + path), new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
    }

    private static Task<HttpResponseMessage> Webhook(AgentProcess agent, string provider, string body, string timestamp, string? signature = "", string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, agent.RestUri($"/v1/webhook/{provider}")) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        request.Headers.Add(WebhookVerifier.TimestampHeader, timestamp);
        if (signature is not null)
        {
            request.Headers.Add(WebhookVerifier.SignatureHeader, signature.Length > 0 ? signature : "sha256=" + WebhookVerifier.Sign(Key, timestamp, Encoding.UTF8.GetBytes(body)));
        }

        return agent.Rest.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static Task<HttpResponseMessage> Rebound(AgentProcess agent)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, agent.RestUri("/metrics"));
        request.Headers.Host = "attacker.example";
        return agent.Rest.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>A registration of one service whose two file variables hold these references.</summary>
    private static string Registration(string first, string second) =>
        JsonSerializer.Serialize(
            new ProjectRegistration("shop", "/srv/shop", ["/srv/shop/compose.yaml"], [new ServiceRegistration("api", 0, 0, [new ReferenceRegistration("A_FILE", first, "compose.yaml:5"), new ReferenceRegistration("B_FILE", second, "compose.yaml:6")])]),
            IpcJson.Wire.ProjectRegistration);

    private static Dictionary<string, byte[]> Snapshot(string root) =>
        Directory.Exists(root)
            ? Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes)
            : [];

    private static void AssertUnchanged(Dictionary<string, byte[]> before, Dictionary<string, byte[]> after, string? ignore = null)
    {
        Assert.Equal(before.Keys.Where(k => k != ignore).Order(StringComparer.Ordinal), after.Keys.Where(k => k != ignore).Order(StringComparer.Ordinal));
        foreach (var (file, bytes) in before.Where(f => f.Key != ignore))
        {
            Assert.True(bytes.AsSpan().SequenceEqual(after[file]), $"{file} changed");
        }
    }
}
