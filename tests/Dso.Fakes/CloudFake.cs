namespace Dso.Fakes;

/// <summary>
/// One cloud provider's fake, started, with what a dso.yaml needs to reach it: the provider
/// section, the credentials' environment, and a secret name the provider accepts.
/// </summary>
public sealed class CloudFake : IAsyncDisposable
{
    private readonly List<FakeServer> _servers;
    private readonly Action<string, string> _put;

    private CloudFake(string type, List<FakeServer> servers, Action<string, string> put, Func<string, string> section, IReadOnlyDictionary<string, string> environment)
    {
        Type = type;
        _servers = servers;
        _put = put;
        Section = section;
        Environment = environment;
    }

    public static IReadOnlyList<string> Types { get; } = ["vault", "aws", "azure", "huawei"];

    public string Type { get; }

    /// <summary>The provider's section under `providers:` for a provider named by the argument (4-space indent for its keys).</summary>
    public Func<string, string> Section { get; }

    /// <summary>The credentials the provider's process needs.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>A secret path this provider accepts (Key Vault and CSMS names hold no slash).</summary>
    public string Secret => Type is "azure" or "huawei" ? "token" : "app/token";

    /// <summary>The server that answers for secrets, where faults go.</summary>
    public FakeServer Secrets => _servers[^1];

    public static async Task<CloudFake> StartAsync(string type, string directory)
    {
        switch (type)
        {
            case "vault":
                {
                    var vault = new FakeVault();
                    await vault.StartAsync();
                    return new CloudFake(type, [vault], (path, value) => vault.Put(path, value),
                        name => $"  {name}:\n    type: vault\n    endpoint: {vault.Address}\n    auth:\n      method: token\n      params:\n        token: ${{VAULT_TOKEN}}\n",
                        new Dictionary<string, string> { ["VAULT_TOKEN"] = FakeVault.RootToken });
                }

            case "aws":
                {
                    var aws = new FakeSecretsManager();
                    await aws.StartAsync();
                    return new CloudFake(type, [aws], (path, value) => aws.Put(path, value),
                        name => $"  {name}:\n    type: aws\n    region: us-east-1\n    endpoint: {aws.Address}\n    auth:\n      method: env\n",
                        new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = FakeSecretsManager.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = FakeSecretsManager.SecretKey });
                }

            case "azure":
                {
                    var identity = new FakeManagedIdentity();
                    await identity.StartAsync();
                    var vault = new FakeKeyVault(identity, directory);
                    await vault.StartAsync();
                    return new CloudFake(type, [identity, vault], (path, value) => vault.Put(path, value),
                        name => $"  {name}:\n    type: azure\n    endpoint: {vault.Address}\n    options:\n      ca_file: {vault.CaFile}\n      verify_challenge_resource: \"false\"\n    auth:\n      method: managed_identity\n",
                        identity.Environment);
                }

            case "huawei":
                {
                    var csms = new FakeCsms();
                    await csms.StartAsync();
                    return new CloudFake(type, [csms], (path, value) => csms.Put(path, value),
                        name => $"  {name}:\n    type: huawei\n    region: cn-north-4\n    endpoint: {csms.Address}\n    options:\n      project_id: {FakeCsms.Project}\n    auth:\n      method: aksk\n",
                        new Dictionary<string, string> { ["HUAWEICLOUD_SDK_AK"] = FakeCsms.AccessKey, ["HUAWEICLOUD_SDK_SK"] = FakeCsms.SecretKey });
                }

            default:
                throw new ArgumentException($"no fake for provider type {type}", nameof(type));
        }
    }

    public void Put(string path, string value) => _put(path, value);

    public async ValueTask DisposeAsync()
    {
        foreach (var server in Enumerable.Reverse(_servers))
        {
            await server.DisposeAsync();
        }
    }
}
