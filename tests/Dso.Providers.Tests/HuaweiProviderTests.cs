using Dso.Fakes;
using Dso.Providers.Plugins;
using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>The huawei provider (built-in plugin, AK/SK signing by hand) against the fake CSMS, which the Huawei Cloud SDK core checks first.</summary>
public sealed class HuaweiProviderTests
{
    [Fact]
    public async Task TheFake_AcceptsTheOfficialSdksSignatures_AnswersCsmsShapes_AndRefusesAWrongKey()
    {
        await using var csms = new FakeCsms();
        await csms.StartAsync();
        var clients = Path.Combine(TestPaths.Repository, "tests", "clients");
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "@huaweicloud", "huaweicloud-sdk-core")), "run: npm ci --prefix tests/clients (scripts/test.sh does)");

        var run = await VaultProviderTests.RunAsync("node", Path.Combine(clients, "verify-huawei.mjs"), csms.Address.ToString().TrimEnd('/'), FakeCsms.AccessKey, FakeCsms.SecretKey, FakeCsms.Project);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("10 checks passed", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Values_PinnedVersions_AndVersionChecksFromTheCurrentStage()
    {
        using var dir = new TempDirectory();
        await using var csms = new FakeCsms();
        await csms.StartAsync();
        csms.Put("app-db", "huawei-one");
        csms.Put("app-db", "huawei-two");
        using var providers = new ConfiguredProviders(dir, Yaml(csms), Keys());
        var provider = providers["huawei"];

        var answers = await provider.ResolveAsync("app-db", "app-db@v1", "app-missing", "app/with/slashes");

        Assert.Equal("huawei-two", answers[0].Value);
        Assert.Equal("huawei-one", answers[1].Value);
        Assert.Null(answers[2].Value);
        Assert.False(answers[2].Transient);
        Assert.Contains("not found in CSMS (CSMS.0005)", answers[2].Error, StringComparison.Ordinal);
        Assert.Contains("is not a CSMS secret name", answers[3].Error, StringComparison.Ordinal);

        var reads = csms.Calls("show-version");
        var before = await provider.VersionsAsync("app-db");
        var again = await provider.VersionsAsync("app-db");
        var latest = csms.Put("app-db", "huawei-three");
        var after = await provider.VersionsAsync("app-db");

        Assert.Equal(("v2", "v2", "v3"), (before[0].Version, again[0].Version, after[0].Version));
        Assert.Equal(latest, after[0].Version);
        Assert.NotNull(after[0].ChangedAt);
        Assert.Equal(reads, csms.Calls("show-version"));
        Assert.Equal(3, csms.Calls("show-stage"));
    }

    [Fact]
    public async Task TheEcsAgency_SignsWithTemporaryKeys_FromTheMetadataService_AndRenewsThemBeforeTheyExpire()
    {
        using var dir = new TempDirectory();
        await using var csms = new FakeCsms { AgencyKeyLifetime = TimeSpan.FromMinutes(4) };
        await csms.StartAsync();
        csms.Put("app-db", "agency-value");
        using var providers = new ConfiguredProviders(dir, Yaml(csms, $"    auth:\n      method: ecs_agency\n      params:\n        metadata_endpoint: {csms.MetadataEndpoint}\n"));
        var provider = providers["huawei"];

        var first = (await provider.ResolveAsync("app-db"))[0];
        var second = (await provider.ResolveAsync("app-db"))[0];

        Assert.Equal(("agency-value", "agency-value"), (first.Value, second.Value));
        // Keys good for 4 minutes are inside the 5-minute renewal margin: each call fetches fresh ones.
        Assert.Equal(2, csms.Calls("securitykey"));
    }

    [Fact]
    public async Task AWrongKey_Throttling_Outages_AndNoMetadataService_AreTransientFailures_ThatSaySo()
    {
        using var dir = new TempDirectory();
        await using var csms = new FakeCsms();
        await csms.StartAsync();
        csms.Put("app-db", "never-shown-5d2");
        using var wrong = new ConfiguredProviders(dir, Yaml(csms), new() { ["HUAWEICLOUD_SDK_AK"] = FakeCsms.AccessKey, ["HUAWEICLOUD_SDK_SK"] = "wrong" });
        using var right = new ConfiguredProviders(dir, Yaml(csms), Keys());
        using var agency = new ConfiguredProviders(dir, Yaml(csms, "    auth:\n      method: ecs_agency\n      params:\n        metadata_endpoint: http://127.0.0.1:9/openstack/latest/securitykey\n"));

        var refused = (await wrong["huawei"].ResolveAsync("app-db"))[0];
        csms.Inject(new Fault(FaultKind.Status, 429, Count: 1));
        var throttled = (await right["huawei"].ResolveAsync("app-db"))[0];
        csms.Inject(new Fault(FaultKind.Status, 503, Count: 1));
        var broken = (await right["huawei"].VersionsAsync("app-db"))[0];
        var noKeys = (await agency["huawei"].ResolveAsync("app-db"))[0];

        Assert.Contains("APIGW.0301", refused.Error, StringComparison.Ordinal);
        Assert.Contains("APIGW.0308", throttled.Error, StringComparison.Ordinal);
        Assert.Contains("503", broken.Error, StringComparison.Ordinal);
        Assert.True(broken.Transient);
        Assert.Contains("no keys from the ECS metadata service", noKeys.Error, StringComparison.Ordinal);
        Assert.All(new[] { refused, throttled, noKeys }, a =>
        {
            Assert.True(a.Transient);
            Assert.Null(a.Value);
            Assert.DoesNotContain("never-shown", a.Error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task TheBuiltInPlugin_PassesTheConformanceKit()
    {
        await using var csms = new FakeCsms();
        await csms.StartAsync();
        csms.Put("app-db", "one");
        csms.Put("app-api", "two");
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"endpoint\":\"{csms.Address}\",\"options\":{{\"project_id\":\"{FakeCsms.Project}\"}},\"auth\":{{\"method\":\"aksk\",\"params\":{{\"access_key\":\"{FakeCsms.AccessKey}\",\"secret_key\":\"{FakeCsms.SecretKey}\"}}}}}}");
        var kit = new ConformanceKit(new PluginLaunch(PluginHost.SelfCommand, ["provider-plugin", "huawei"], PluginLaunch.EnvironmentFor([], System.Environment.GetEnvironmentVariable)), config, ["app-db", "app-api"], "app-none", TimeSpan.FromSeconds(10));

        var checks = await kit.RunAsync(TestContext.Current.CancellationToken);

        Assert.True(checks.All(c => c.Passed), string.Join("\n", checks.Select(c => $"{c.Id}: {c.Passed} {c.Detail}")));
    }

    private static Dictionary<string, string> Keys() => new()
    {
        ["HUAWEICLOUD_SDK_AK"] = FakeCsms.AccessKey,
        ["HUAWEICLOUD_SDK_SK"] = FakeCsms.SecretKey,
    };

    private static string Yaml(FakeCsms csms, string auth = "    auth:\n      method: aksk\n") =>
        $"providers:\n  huawei:\n    type: huawei\n    region: cn-north-4\n    endpoint: {csms.Address}\n    options:\n      project_id: {FakeCsms.Project}\n{auth}    retry:\n      attempts: 1\n";
}
