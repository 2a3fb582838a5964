using System.Net.Http.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Dso.Fakes;
using Dso.Providers.Plugins;
using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>
/// The azure provider (built-in plugin on the official Key Vault client and Azure.Identity's
/// managed identity) against the fake Key Vault over HTTPS, which the official .NET SDK checks first.
/// </summary>
public sealed class AzureProviderTests
{
    [Fact]
    public async Task TheFake_IsWhatTheOfficialKeyVaultSdkExpects_OverHttps()
    {
        await using var identity = new FakeManagedIdentity();
        await identity.StartAsync();
        await using var vault = new FakeKeyVault(identity);
        await vault.StartAsync();
        var client = Sdk(vault, identity);
        var token = TestContext.Current.CancellationToken;

        // The client's first call is answered with the challenge, then retried with a token.
        var set = (await client.SetSecretAsync("app-db", "sdk-one", token)).Value;
        var second = (await client.SetSecretAsync("app-db", "sdk-two", token)).Value;
        Assert.Equal(1, vault.Calls("challenge"));
        Assert.Equal("sdk-two", (await client.GetSecretAsync("app-db", cancellationToken: token)).Value.Value);
        Assert.Equal("sdk-one", (await client.GetSecretAsync("app-db", set.Properties.Version, token)).Value.Value);
        Assert.Equal(32, second.Properties.Version.Length);
        Assert.Equal(new Uri(vault.Address, "secrets/app-db/" + second.Properties.Version), second.Id);

        // Paging: 30 versions come back across two pages by nextLink; the list of secrets names each once.
        for (var i = 0; i < 28; i++)
        {
            vault.Put("app-db", $"bulk-{i}");
        }

        var versions = new List<SecretProperties>();
        await foreach (var v in client.GetPropertiesOfSecretVersionsAsync("app-db", token))
        {
            versions.Add(v);
        }

        Assert.Equal(30, versions.Select(v => v.Version).Distinct().Count());
        Assert.Equal(2, vault.Calls("versions"));
        var names = new List<string>();
        await foreach (var s in client.GetPropertiesOfSecretsAsync(token))
        {
            names.Add(s.Name);
        }

        Assert.Equal(["app-db"], names);

        // The documented errors, as RequestFailedException with Key Vault's codes.
        var missing = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("nope", cancellationToken: token));
        Assert.Equal((404, "SecretNotFound"), (missing.Status, missing.ErrorCode));
        vault.Deny("app-db");
        var denied = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("app-db", cancellationToken: token));
        Assert.Equal((403, "Forbidden"), (denied.Status, denied.ErrorCode));
        vault.Inject(new Fault(FaultKind.Status, 429, Count: 1));
        var throttled = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("other", cancellationToken: token));
        Assert.Equal((429, "Throttled"), (throttled.Status, throttled.ErrorCode));
        vault.Inject(new Fault(FaultKind.Status, 500, Count: 1));
        var broken = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("other", cancellationToken: token));
        Assert.Equal(500, broken.Status);
    }

    [Fact]
    public async Task ManagedIdentity_Values_PinnedVersions_AndVersionChecksThatReadNoValue()
    {
        using var dir = new TempDirectory();
        await using var identity = new FakeManagedIdentity();
        await identity.StartAsync();
        await using var vault = new FakeKeyVault(identity, dir.Path);
        await vault.StartAsync();
        var first = vault.Put("app-db", "azure-one");
        vault.Put("app-db", "azure-two");
        using var providers = new ConfiguredProviders(dir, Yaml(vault, "managed_identity"), new(identity.Environment));
        var provider = providers["azure"];

        var answers = await provider.ResolveAsync("app-db", $"app-db@{first}", "app-missing");

        Assert.Equal("azure-two", answers[0].Value);
        Assert.Equal("azure-one", answers[1].Value);
        Assert.Null(answers[2].Value);
        Assert.False(answers[2].Transient);
        Assert.Contains("not found", answers[2].Error, StringComparison.Ordinal);
        Assert.Equal(1, identity.Issued);

        var gets = vault.Calls("get");
        var before = await provider.VersionsAsync("app-db");
        var again = await provider.VersionsAsync("app-db");
        var latest = vault.Put("app-db", "azure-three");
        var after = await provider.VersionsAsync("app-db");

        Assert.Equal(before[0].Version, again[0].Version);
        Assert.NotEqual(before[0].Version, after[0].Version);
        Assert.StartsWith(latest, after[0].Version, StringComparison.Ordinal);
        Assert.Equal(gets, vault.Calls("get"));
        Assert.Equal(3, vault.Calls("versions"));
    }

    [Fact]
    public async Task TheDefaultCredential_FindsTheManagedIdentity_AnUntrustedCertificateIsRefused_AndNoTokenGoesOutsideTheChallengesDomain()
    {
        using var dir = new TempDirectory();
        await using var identity = new FakeManagedIdentity();
        await identity.StartAsync();
        await using var vault = new FakeKeyVault(identity, dir.Path);
        await vault.StartAsync();
        vault.Put("app-db", "default-chain");
        using var chain = new ConfiguredProviders(dir, Yaml(vault, "default"), new(identity.Environment));
        using var unpinned = new ConfiguredProviders(dir, Yaml(vault, "managed_identity", caFile: false), new(identity.Environment));
        using var verifying = new ConfiguredProviders(dir, Yaml(vault, "managed_identity", verify: true), new(identity.Environment));

        var outside = (await verifying["azure"].ResolveAsync("app-db"))[0];
        Assert.Equal(0, identity.Issued);
        Assert.Null(outside.Value);
        Assert.Contains("audience outside its own domain (vault.azure.net); no token was sent", outside.Error, StringComparison.Ordinal);

        var found = (await chain["azure"].ResolveAsync("app-db"))[0];
        var refused = (await unpinned["azure"].ResolveAsync("app-db"))[0];

        Assert.Equal("default-chain", found.Value);
        Assert.Null(refused.Value);
        Assert.True(refused.Transient);
        Assert.Contains("unreachable", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttling_Outages_LostAccess_AndARevokedToken_AreTransientFailures_ThatSaySo_AndPass()
    {
        using var dir = new TempDirectory();
        await using var identity = new FakeManagedIdentity();
        await identity.StartAsync();
        await using var vault = new FakeKeyVault(identity, dir.Path);
        await vault.StartAsync();
        vault.Put("app-db", "never-shown-a7e");
        vault.Put("app-other", "never-shown-b81");
        using var providers = new ConfiguredProviders(dir, Yaml(vault, "managed_identity"), new(identity.Environment));
        var provider = providers["azure"];
        Assert.Equal("never-shown-a7e", (await provider.ResolveAsync("app-db"))[0].Value);

        vault.Inject(new Fault(FaultKind.Status, 429, Count: 1));
        var throttled = (await provider.ResolveAsync("app-db"))[0];
        vault.Inject(new Fault(FaultKind.Status, 500, Count: 1));
        var broken = (await provider.ResolveAsync("app-db"))[0];
        vault.Inject(new Fault(FaultKind.Status, 503, Count: 1));
        var unchecked_ = (await provider.VersionsAsync("app-db"))[0];
        Assert.True(unchecked_.Transient, unchecked_.Error);
        Assert.Contains("503", unchecked_.Error, StringComparison.Ordinal);
        vault.Deny("app-other");
        var denied = (await provider.ResolveAsync("app-other"))[0];

        // A revoked token: Key Vault's CAE challenge makes the client ask for a new one in the same call.
        var issued = identity.Issued;
        identity.ExpireAll();
        Assert.Equal("never-shown-a7e", (await provider.ResolveAsync("app-db"))[0].Value);
        Assert.Equal(issued + 1, identity.Issued);

        // Revoked while the identity endpoint is down: the sign-in's own retries run into the deadline, which is said, and it passes.
        identity.ExpireAll();
        identity.Inject(new Fault(FaultKind.Status, 500));
        var revoked = (await provider.ResolveAsync("app-db"))[0];
        identity.Inject(null);
        Assert.Equal("never-shown-a7e", (await provider.ResolveAsync("app-db"))[0].Value);

        Assert.Contains("Throttled", throttled.Error, StringComparison.Ordinal);
        Assert.Contains("500", broken.Error, StringComparison.Ordinal);
        Assert.Contains("refused access", denied.Error, StringComparison.Ordinal);
        Assert.Contains("(with the Azure sign-in) did not answer within 4 s", revoked.Error, StringComparison.Ordinal);
        Assert.All(new[] { throttled, broken, denied, revoked }, a =>
        {
            Assert.True(a.Transient);
            Assert.Null(a.Value);
            Assert.DoesNotContain("never-shown", a.Error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task TheBuiltInPlugin_PassesTheConformanceKit()
    {
        using var dir = new TempDirectory();
        await using var identity = new FakeManagedIdentity();
        await identity.StartAsync();
        await using var vault = new FakeKeyVault(identity, dir.Path);
        await vault.StartAsync();
        vault.Put("app-db", "one");
        vault.Put("app-api", "two");
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"endpoint\":\"{vault.Address}\",\"options\":{{\"ca_file\":\"{vault.CaFile}\",\"verify_challenge_resource\":\"false\"}},\"auth\":{{\"method\":\"managed_identity\"}}}}");
        var environment = PluginLaunch.EnvironmentFor([], System.Environment.GetEnvironmentVariable).Concat(identity.Environment).ToDictionary();
        var kit = new ConformanceKit(new PluginLaunch(PluginHost.SelfCommand, ["provider-plugin", "azure"], environment), config, ["app-db", "app-api"], "app-none", TimeSpan.FromSeconds(10));

        var checks = await kit.RunAsync(TestContext.Current.CancellationToken);

        Assert.True(checks.All(c => c.Passed), string.Join("\n", checks.Select(c => $"{c.Id}: {c.Passed} {c.Detail}")));
    }

    /// <summary>The fake is at 127.0.0.1, not inside vault.azure.net: as a vault behind a custom domain, it needs the challenge check off.</summary>
    private static string Yaml(FakeKeyVault vault, string method, bool caFile = true, bool verify = false) =>
        $"providers:\n  azure:\n    type: azure\n    endpoint: {vault.Address}\n    options:\n      verify_challenge_resource: \"{(verify ? "true" : "false")}\"\n"
        + (caFile ? $"      ca_file: {vault.CaFile}\n" : "") + $"    auth:\n      method: {method}\n    timeout: 5s\n    retry:\n      attempts: 1\n";

    /// <summary>The official client, trusting only the fake's certificate, with a credential that asks the fake identity endpoint as App Service's does.</summary>
    private static SecretClient Sdk(FakeKeyVault vault, FakeManagedIdentity identity)
    {
        var options = new SecretClientOptions { Transport = new HttpClientTransport(BackendHttp.Handler(vault.CaFile)), Retry = { MaxRetries = 0 }, DisableChallengeResourceVerification = true };
        return new SecretClient(vault.Address, new IdentityEndpointCredential(identity), options);
    }

    private sealed class IdentityEndpointCredential(FakeManagedIdentity identity) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            using var http = new HttpClient();
            http.DefaultRequestHeaders.Add("X-IDENTITY-HEADER", FakeManagedIdentity.Header);
            var resource = requestContext.Scopes[0].Replace("/.default", "", StringComparison.Ordinal);
            var answer = await http.GetFromJsonAsync<Dictionary<string, string>>($"{identity.Environment["IDENTITY_ENDPOINT"]}?api-version=2019-08-01&resource={Uri.EscapeDataString(resource)}", cancellationToken);
            return new AccessToken(answer!["access_token"], DateTimeOffset.FromUnixTimeSeconds(long.Parse(answer["expires_on"], System.Globalization.CultureInfo.InvariantCulture)));
        }
    }
}
