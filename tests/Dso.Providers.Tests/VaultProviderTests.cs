using System.Diagnostics;
using System.Text.Json.Nodes;
using Dso.Fakes;
using Dso.Providers.Plugins;
using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>The vault provider (built-in plugin) against the fake Vault, which hvac itself checks first.</summary>
public sealed class VaultProviderTests
{
    private const string IamAccessKey = "AKIAVAULTIAMFAKE0001";
    private const string IamSecretKey = "vault/iam/secret/key/for/tests/00000000";

    [Fact]
    public async Task TheFake_IsWhatTheOfficialClientHvacExpects()
    {
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.AddRole("role-hvac", "secret-hvac");
        vault.AddAwsKey(IamAccessKey, IamSecretKey);
        vault.AddIamRole("iam-hvac", IamAccessKey);
        vault.IamServerId = "vault.example.com";

        var run = await RunAsync("/usr/bin/python3", Path.Combine(TestPaths.Repository, "tests", "clients", "verify_vault.py"), vault.Address.ToString(), FakeVault.RootToken, "role-hvac", "secret-hvac", IamAccessKey, IamSecretKey, "iam-hvac", "vault.example.com");

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("16 checks passed", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_KvV2_ResolvesValuesFieldsAndPinnedVersions_AndVersionsMoveOnlyOnAWrite()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.Put("app/db", "first");
        vault.Put("app/db", "second");
        vault.PutFields("app/api", new JsonObject { ["user"] = "svc", ["key"] = "k-1" });
        using var providers = new ConfiguredProviders(dir, Yaml(vault, "    auth:\n      method: token\n      params:\n        token: ${VAULT_TOKEN}\n"), new() { ["VAULT_TOKEN"] = FakeVault.RootToken });
        var provider = providers["vault"];

        var answers = await provider.ResolveAsync("app/db", "app/db@1", "app/api", "app/missing");

        Assert.Equal("second", answers[0].Value);
        Assert.Equal("first", answers[1].Value);
        Assert.Equal("{\"user\":\"svc\",\"key\":\"k-1\"}", answers[2].Value);
        Assert.Null(answers[3].Value);
        Assert.False(answers[3].Transient);
        Assert.Contains("not found", answers[3].Error, StringComparison.Ordinal);

        var before = await provider.VersionsAsync("app/db", "app/api");
        var requests = vault.Requests;
        var again = await provider.VersionsAsync("app/db", "app/api");
        vault.Put("app/db", "third");
        var after = await provider.VersionsAsync("app/db", "app/api");

        Assert.Equal(["2", "1"], before.Select(v => v.Version));
        Assert.Equal(before.Select(v => v.Version), again.Select(v => v.Version));
        Assert.Equal(["3", "1"], after.Select(v => v.Version));
        Assert.Equal(2, vault.Requests - requests - 2);
        Assert.Equal("third", (await provider.ResolveAsync("app/db"))[0].Value);
    }

    [Fact]
    public async Task PathsWrittenAsVaultsApiShowsThem_AreReadAsTheSeedMeansThem()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.PutFields("prod/database", new JsonObject { ["password"] = "db-pw", ["user"] = "app" });
        vault.Put("prod/api/key", "api-key-value");
        // The seed README's provider as written: the address under auth.params, no endpoint.
        var seedYaml = $"providers:\n  vault:\n    type: vault\n    auth:\n      method: token\n      params:\n        address: {vault.Address}\n        token: \"${{VAULT_TOKEN}}\"\n";
        using var providers = new ConfiguredProviders(dir, seedYaml, new() { ["VAULT_TOKEN"] = FakeVault.RootToken });
        var provider = providers["vault"];

        // The seed README's mappings: DB_PASSWORD: secret/data/prod/database/password, API_KEY: secret/data/prod/api/key.
        var answers = await provider.ResolveAsync("secret/data/prod/database/password", "secret/data/prod/api/key", "secret/data/prod/database/nope");
        var versions = await provider.VersionsAsync("secret/data/prod/database/password");

        Assert.Equal("db-pw", answers[0].Value);
        Assert.Equal("api-key-value", answers[1].Value);
        Assert.Null(answers[2].Value);
        Assert.False(answers[2].Transient);
        Assert.Equal("1", versions[0].Version);
    }

    [Fact]
    public async Task AppRole_WithAWrappedSecretIdFile_UnwrapsOnce_AndLogsInAgainWhenTheTokenIsRevoked()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.AddRole("role-1", "secret-1");
        vault.Put("app/db", "approle-value");
        var wrapped = dir.WriteFile("secret-id", vault.Wrap("secret-1"));
        using var providers = new ConfiguredProviders(dir, Yaml(vault, $"    auth:\n      method: approle\n      params:\n        role_id: role-1\n        secret_id_file: {wrapped}\n        wrapped: \"true\"\n"));
        var provider = providers["vault"];

        var first = (await provider.ResolveAsync("app/db"))[0];
        Assert.True(first.Value == "approle-value", first.Error);
        vault.RevokeIssued();
        Assert.Equal("approle-value", (await provider.ResolveAsync("app/db"))[0].Value);

        Assert.Equal(2, vault.Logins);
    }

    /// <summary>
    /// The SECURITY document's cloud example: Vault's AWS IAM auth with the host's AWS credentials
    /// (here from the environment, with a session token as an instance role gives), the server-id
    /// header signed, a new login when Vault revokes the token, and a clear refusal for a wrong key.
    /// </summary>
    [Fact]
    public async Task IamRole_SignsGetCallerIdentity_LogsIn_AndLogsInAgainWhenTheTokenIsRevoked()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        const string session = "IQoJb3JpZ2luX2VjEFAKEvaultiamsession0001";
        vault.AddAwsKey(IamAccessKey, IamSecretKey, session);
        vault.AddIamRole("dso-agent", IamAccessKey);
        vault.IamServerId = "vault.example.com";
        vault.Put("app/db", "via-iam");
        var auth = "    auth:\n      method: iam_role\n      params:\n        role: dso-agent\n        header_value: vault.example.com\n";
        var keys = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = IamAccessKey, ["AWS_SECRET_ACCESS_KEY"] = IamSecretKey, ["AWS_SESSION_TOKEN"] = session, ["AWS_EC2_METADATA_DISABLED"] = "true" };
        using var providers = new ConfiguredProviders(dir, Yaml(vault, auth), keys);
        using var wrong = new ConfiguredProviders(dir, Yaml(vault, auth, retry: "    retry:\n      attempts: 1\n"), new(keys) { ["AWS_SECRET_ACCESS_KEY"] = "wrong" + IamSecretKey });

        var first = (await providers["vault"].ResolveAsync("app/db"))[0];
        Assert.True(first.Value == "via-iam", first.Error);
        vault.RevokeIssued();
        Assert.Equal("via-iam", (await providers["vault"].ResolveAsync("app/db"))[0].Value);
        Assert.Equal(2, vault.Logins);

        var refused = (await wrong["vault"].ResolveAsync("app/db"))[0];
        Assert.Null(refused.Value);
        Assert.Contains("Vault AWS IAM login failed (400: error making upstream request: received error code 403 from STS: SignatureDoesNotMatch)", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(IamSecretKey, refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_TrustsTheCaFile_AndRefusesAServerItDoesNotVouchFor()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault(https: true, directory: dir.Path);
        await vault.StartAsync();
        vault.Put("app/db", "over-tls");
        var auth = "    auth:\n      method: token\n      params:\n        token: " + FakeVault.RootToken + "\n";
        using var pinned = new ConfiguredProviders(dir, Yaml(vault, auth, $"      ca_file: {vault.CaFile}\n"));
        using var unpinned = new ConfiguredProviders(dir, Yaml(vault, auth, retry: "    retry:\n      attempts: 1\n"));

        Assert.Equal("over-tls", (await pinned["vault"].ResolveAsync("app/db"))[0].Value);
        var refused = (await unpinned["vault"].ResolveAsync("app/db"))[0];
        Assert.Null(refused.Value);
        Assert.True(refused.Transient);
        Assert.Contains("unreachable", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KvV1_AndNamespaces_ReadTheirOwnStores()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.PutV1("legacy/db", new JsonObject { ["value"] = "from-v1" });
        vault.Put("app/db", "root-namespace");
        vault.Put("app/db", "team-a-namespace", ns: "team-a");
        var auth = "    auth:\n      method: token\n      params:\n        token: " + FakeVault.RootToken + "\n";
        using var v1 = new ConfiguredProviders(dir, Yaml(vault, auth, "      mount: kv\n      kv_version: \"1\"\n"));
        using var team = new ConfiguredProviders(dir, Yaml(vault, auth, "      namespace: team-a\n"));

        Assert.Equal("from-v1", (await v1["vault"].ResolveAsync("legacy/db"))[0].Value);
        Assert.False(((IVersionedProvider)v1["vault"]).CanCheckVersions);
        Assert.Equal("team-a-namespace", (await team["vault"].ResolveAsync("app/db"))[0].Value);
    }

    [Theory]
    [InlineData(FaultKind.Status, 403, "denied")]
    [InlineData(FaultKind.Status, 429, "429")]
    [InlineData(FaultKind.Status, 503, "503")]
    [InlineData(FaultKind.Oversized, 0, "over 512 KiB")]
    [InlineData(FaultKind.Garbage, 0, "not the KV API")]
    [InlineData(FaultKind.Slow, 0, "did not answer")]
    public async Task ProviderErrors_AreTransientFailuresThatSaySo_AndCarryNoValue(FaultKind kind, int status, string expected)
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.Put("app/db", "must-not-leak-7d1");
        vault.Inject(new Fault(kind, status, TimeSpan.FromSeconds(5)));
        using var providers = new ConfiguredProviders(dir, Yaml(vault, "    auth:\n      method: token\n      params:\n        token: " + FakeVault.RootToken + "\n", retry: "    retry:\n      attempts: 1\n    timeout: 2s\n"));

        var answer = (await providers["vault"].ResolveAsync("app/db"))[0];

        Assert.Null(answer.Value);
        Assert.True(answer.Transient);
        Assert.Contains(expected, answer.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("must-not-leak", answer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A5xxBurst_IsRetriedAway_AndAPersistentOutageOpensTheCircuit()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.Put("app/db", "after-retry");
        using var providers = new ConfiguredProviders(dir, Yaml(vault, "    auth:\n      method: token\n      params:\n        token: " + FakeVault.RootToken + "\n", retry: "    retry:\n      attempts: 3\n      backoff: 50ms\n    circuit:\n      failures: 2\n      open_for: 1h\n"));
        var provider = providers["vault"];

        vault.Inject(new Fault(FaultKind.Status, 500, Count: 2));
        Assert.Equal("after-retry", (await provider.ResolveAsync("app/db"))[0].Value);
        Assert.Equal(3, vault.Requests);

        vault.Inject(new Fault(FaultKind.Status, 503));
        await provider.ResolveAsync("app/db");
        await provider.ResolveAsync("app/db");
        var requestsWhenOpen = vault.Requests;
        var refused = (await provider.ResolveAsync("app/db"))[0];

        Assert.Equal("open", ((ResilientProvider)provider).CircuitState);
        Assert.Contains("circuit open", refused.Error, StringComparison.Ordinal);
        Assert.Equal(requestsWhenOpen, vault.Requests);
    }

    [Fact]
    public async Task AnOpenCircuit_LetsOneTrialThroughAfterOpenFor_AndClosesWhenItSucceeds()
    {
        using var dir = new TempDirectory();
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.Put("app/db", "back");
        using var providers = new ConfiguredProviders(dir, Yaml(vault, "    auth:\n      method: token\n      params:\n        token: " + FakeVault.RootToken + "\n", retry: "    retry:\n      attempts: 1\n    circuit:\n      failures: 1\n      open_for: 300ms\n"));
        var provider = (ResilientProvider)providers["vault"];

        vault.Inject(new Fault(FaultKind.Status, 500, Count: 1));
        await provider.ResolveAsync("app/db");
        Assert.Equal("open", provider.CircuitState);
        await Task.Delay(400, TestContext.Current.CancellationToken);
        Assert.Equal("half-open", provider.CircuitState);

        Assert.Equal("back", (await provider.ResolveAsync("app/db"))[0].Value);
        Assert.Equal("closed", provider.CircuitState);
    }

    [Fact]
    public async Task TheBuiltInPlugin_PassesTheConformanceKit()
    {
        await using var vault = new FakeVault();
        await vault.StartAsync();
        vault.Put("app/db", "one");
        vault.Put("app/api", "two");
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"endpoint\":\"{vault.Address}\",\"auth\":{{\"method\":\"token\",\"params\":{{\"token\":\"{FakeVault.RootToken}\"}}}}}}");
        var kit = new ConformanceKit(new PluginLaunch(PluginHost.SelfCommand, ["provider-plugin", "vault"], PluginLaunch.EnvironmentFor([], System.Environment.GetEnvironmentVariable)), config, ["app/db", "app/api"], "app/none", TimeSpan.FromSeconds(10));

        var checks = await kit.RunAsync(TestContext.Current.CancellationToken);

        Assert.True(checks.All(c => c.Passed), string.Join("\n", checks.Select(c => $"{c.Id}: {c.Passed} {c.Detail}")));
        Assert.Equal(13, checks.Count);
    }

    private static string Yaml(FakeVault vault, string auth, string options = "", string retry = "") =>
        $"providers:\n  vault:\n    type: vault\n    endpoint: {vault.Address}\n{auth}" + (options.Length > 0 ? "    options:\n" + options : "") + retry;

    internal static async Task<(int Code, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}

internal static class TestPaths
{
    /// <summary>The repository root (the directory holding Dso.slnx), found upward from the test binary.</summary>
    public static string Repository
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Dso.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Dso.slnx not found above " + AppContext.BaseDirectory);
        }
    }
}
