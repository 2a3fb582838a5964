using Dso.Fakes;
using Dso.Providers.Plugins;
using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>The aws provider (built-in plugin, SigV4 by hand) against the fake Secrets Manager, which the AWS JS SDK checks first.</summary>
public sealed class AwsProviderTests
{
    [Fact]
    public async Task TheFake_IsWhatTheOfficialAwsSdkExpects_AndRefusesABadSignature()
    {
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        var clients = Path.Combine(TestPaths.Repository, "tests", "clients");
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "@aws-sdk", "client-secrets-manager")), "run: npm ci --prefix tests/clients (scripts/test.sh does)");

        var run = await VaultProviderTests.RunAsync("node", Path.Combine(clients, "verify-aws.mjs"), aws.Address.ToString(), FakeSecretsManager.AccessKey, FakeSecretsManager.SecretKey);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("11 checks passed", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Values_PinnedVersions_AndVersionChecks_UseBatchesAndDescribeSecret()
    {
        using var dir = new TempDirectory();
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        var first = aws.Put("app/db", "aws-one");
        aws.Put("app/db", "aws-two");
        for (var i = 0; i < 25; i++)
        {
            aws.Put($"bulk/{i}", $"bulk-value-{i}");
        }

        using var providers = new ConfiguredProviders(dir, Yaml(aws), Credentials());
        var provider = providers["aws"];

        var answers = await provider.ResolveAsync(["app/db", $"app/db@{first}", "app/missing", .. Enumerable.Range(0, 25).Select(i => $"bulk/{i}")]);

        Assert.Equal("aws-two", answers[0].Value);
        Assert.Equal("aws-one", answers[1].Value);
        Assert.Null(answers[2].Value);
        Assert.False(answers[2].Transient);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"bulk-value-{i}"), answers.Skip(3).Select(a => a.Value));
        Assert.Equal(2, aws.Calls("BatchGetSecretValue"));
        Assert.Equal(1, aws.Calls("GetSecretValue"));

        var before = await provider.VersionsAsync("app/db");
        var again = await provider.VersionsAsync("app/db");
        var latest = aws.Put("app/db", "aws-three");
        var after = await provider.VersionsAsync("app/db");

        Assert.Equal(before[0].Version, again[0].Version);
        Assert.Equal(latest, after[0].Version);
        Assert.Equal(3, aws.Calls("DescribeSecret"));
        Assert.Equal(2, aws.Calls("BatchGetSecretValue"));
    }

    [Fact]
    public async Task WrongKeys_Throttling_AndOutages_AreTransientFailures_ThatSaySo()
    {
        using var dir = new TempDirectory();
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        aws.Put("app/db", "never-shown-3c9");
        using var wrong = new ConfiguredProviders(dir, Yaml(aws), new() { ["AWS_ACCESS_KEY_ID"] = FakeSecretsManager.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = "wrong" });
        using var right = new ConfiguredProviders(dir, Yaml(aws), Credentials());

        var refused = (await wrong["aws"].ResolveAsync("app/db"))[0];
        aws.Inject(new Fault(FaultKind.Status, 429, Count: 1));
        var throttled = (await right["aws"].ResolveAsync("app/db"))[0];
        aws.Inject(new Fault(FaultKind.Status, 500, Count: 1));
        var broken = (await right["aws"].ResolveAsync("app/db"))[0];

        Assert.True(refused.Transient);
        Assert.Contains("InvalidSignatureException", refused.Error, StringComparison.Ordinal);
        Assert.Contains("ThrottlingException", throttled.Error, StringComparison.Ordinal);
        Assert.Contains("InternalServiceError", broken.Error, StringComparison.Ordinal);
        Assert.All(new[] { refused, throttled, broken }, a => Assert.DoesNotContain("never-shown", a.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CredentialsAllowedOnlyGetSecretValue_TheSeedsPolicy_StillReadValuesAndVersions_ThroughGetSecretValue()
    {
        using var dir = new TempDirectory();
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        aws.Put("myapp/db", "db-one");
        aws.Put("myapp/api", "api-value");
        aws.Deny("BatchGetSecretValue");
        aws.Deny("DescribeSecret");
        using var providers = new ConfiguredProviders(dir, Yaml(aws), Credentials());
        var provider = providers["aws"];

        var first = await provider.ResolveAsync(["myapp/db", "myapp/api"]);
        var before = (await provider.VersionsAsync("myapp/db"))[0];
        var latest = aws.Put("myapp/db", "db-two");
        var after = (await provider.VersionsAsync("myapp/db"))[0];
        var second = await provider.ResolveAsync(["myapp/db"]);

        Assert.Equal(["db-one", "api-value"], first.Select(a => a.Value));
        Assert.NotNull(before.Version);
        Assert.Equal(latest, after.Version);
        Assert.NotEqual(before.Version, after.Version);
        Assert.Equal("db-two", second[0].Value);

        // IAM was asked once for each denied action; GetSecretValue served everything after.
        Assert.Equal(1, aws.Calls("BatchGetSecretValue"));
        Assert.Equal(1, aws.Calls("DescribeSecret"));
        Assert.Equal(5, aws.Calls("GetSecretValue"));
    }

    [Fact]
    public async Task AccessDenied_OnTheSecretItself_IsRefusedNotTransient_AndNamesTheIamActionToGrant()
    {
        using var dir = new TempDirectory();
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        aws.Put("app/db", "never-shown-91e");
        aws.Put("app/api", "api-value");
        aws.Deny("GetSecretValue/app/db");
        using var batching = new ConfiguredProviders(dir, Yaml(aws), Credentials());
        var inBatch = await batching["aws"].ResolveAsync(["app/db", "app/api"]);
        aws.Deny("BatchGetSecretValue");
        aws.Deny("DescribeSecret");
        using var single = new ConfiguredProviders(dir, Yaml(aws), Credentials());
        var alone = (await single["aws"].ResolveAsync("app/db"))[0];
        var version = (await single["aws"].VersionsAsync("app/db"))[0];

        Assert.Equal("api-value", inBatch[1].Value);
        foreach (var (error, transient, value) in new[] { (inBatch[0].Error, inBatch[0].Transient, inBatch[0].Value), (alone.Error, alone.Transient, alone.Value), (version.Error, version.Transient, version.Version) })
        {
            Assert.Null(value);
            Assert.False(transient);
            Assert.Contains("AccessDeniedException", error, StringComparison.Ordinal);
            Assert.Contains("need secretsmanager:GetSecretValue on the secret", error, StringComparison.Ordinal);
            Assert.DoesNotContain("never-shown-91e", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheDefaultChain_TakesEcsContainerCredentials_AndSignsWithTheirSessionToken()
    {
        using var dir = new TempDirectory();
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        aws.Put("app/db", "from-ecs-keys");
        var yaml = Yaml(aws).Replace("method: env", "method: default", StringComparison.Ordinal);
        using var providers = new ConfiguredProviders(dir, yaml, new()
        {
            ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws.ContainerCredentials.ToString(),
            ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = FakeSecretsManager.ContainerAuthorization,
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        });

        var answer = (await providers["aws"].ResolveAsync("app/db"))[0];

        Assert.Equal("from-ecs-keys", answer.Value);
        Assert.Equal(1, aws.Calls("ContainerCredentials"));
        Assert.Equal(1, aws.WithSessionToken);
    }

    [Fact]
    public async Task TheDefaultChain_TakesTheInstanceRoleFromImdsV2_WithASessionTokenFirst()
    {
        using var dir = new TempDirectory();
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        aws.Put("app/db", "from-the-instance-role");
        var yaml = Yaml(aws).Replace("method: env", "method: iam_role", StringComparison.Ordinal);
        using var providers = new ConfiguredProviders(dir, yaml, new()
        {
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = aws.Address.ToString().TrimEnd('/'),
            ["HOME"] = dir.Path,
        });

        var answer = (await providers["aws"].ResolveAsync("app/db"))[0];

        Assert.True(answer.Value == "from-the-instance-role", $"{answer.Error?.Replace("\n", " ", StringComparison.Ordinal)} imds={aws.Calls("ImdsToken")}/{aws.Calls("ImdsCredentials")}");
        Assert.True(aws.Calls("ImdsToken") >= 1);
        Assert.True(aws.Calls("ImdsCredentials") >= 2);
        Assert.Equal(1, aws.WithSessionToken);
    }

    [Fact]
    public async Task TheBuiltInPlugin_PassesTheConformanceKit()
    {
        await using var aws = new FakeSecretsManager();
        await aws.StartAsync();
        aws.Put("app/db", "one");
        aws.Put("app/api", "two");
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"region\":\"us-east-1\",\"endpoint\":\"{aws.Address}\",\"auth\":{{\"method\":\"static\",\"params\":{{\"access_key_id\":\"{FakeSecretsManager.AccessKey}\",\"secret_access_key\":\"{FakeSecretsManager.SecretKey}\"}}}}}}");
        var kit = new ConformanceKit(new PluginLaunch(PluginHost.SelfCommand, ["provider-plugin", "aws"], PluginLaunch.EnvironmentFor([], System.Environment.GetEnvironmentVariable)), config, ["app/db", "app/api"], "app/none", TimeSpan.FromSeconds(10));

        var checks = await kit.RunAsync(TestContext.Current.CancellationToken);

        Assert.True(checks.All(c => c.Passed), string.Join("\n", checks.Select(c => $"{c.Id}: {c.Passed} {c.Detail}")));
    }

    private static Dictionary<string, string> Credentials() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = FakeSecretsManager.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = FakeSecretsManager.SecretKey,
    };

    private static string Yaml(FakeSecretsManager aws) =>
        $"providers:\n  aws:\n    type: aws\n    region: us-east-1\n    endpoint: {aws.Address}\n    auth:\n      method: env\n    retry:\n      attempts: 1\n";
}
