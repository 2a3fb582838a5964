using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Dso.Plugins;
using Dso.Secrets;
using Dso.Providers.Plugins;

namespace Dso.Providers.Azure;

/// <summary>
/// Azure Key Vault through the official client (`Azure.Security.KeyVault.Secrets`) and
/// `Azure.Identity`: a reference's path is the secret's name, `@VERSION` a version id. The cheap
/// check lists a secret's versions (no value is read) and reports the newest one. Credentials:
/// `default` (DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI),
/// `managed_identity` (system-assigned, or `client_id` for a user-assigned one), `workload_identity`
/// (the federated token file Kubernetes projects), `client_secret` (the secret read from
/// `client_secret_file`), `client_certificate` (`certificate_file`), `cli`, `env`.
/// The SDK hands values over as .NET strings, which cannot be zeroed; they live only in this
/// plugin process, and DSO's copy is zeroed as everywhere else.
/// </summary>
internal sealed class AzureBackend : IPluginBackend
{
    private const int MaxBody = 512 * 1024;
    private readonly SecretClient _client;
    private readonly Uri _vault;
    private readonly TimeSpan _deadline;

    public AzureBackend(BackendConfig config, Func<string, string?> variable)
    {
        if (config.Endpoint is not { } endpoint || !Uri.TryCreate(endpoint, UriKind.Absolute, out var vault) || vault.Scheme != "https")
        {
            throw new BackendException(PluginErrorCodes.Denied, "no Key Vault address: set endpoint: https://NAME.vault.azure.net");
        }

        _vault = vault;
        _deadline = config.Timeout * 0.8;
        var options = new SecretClientOptions
        {
            Transport = new HttpClientTransport(BackendHttp.Handler(config.Options.GetValueOrDefault("ca_file"))),
            // DSO retries (with its circuit breaker) around the plugin; retries here would multiply them.
            Retry = { MaxRetries = 0, NetworkTimeout = config.Timeout * 0.8 },
            // On by default: a token goes only to a host inside the domain Key Vault's challenge names.
            DisableChallengeResourceVerification = config.Options.GetValueOrDefault("verify_challenge_resource") == "false",
        };
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        _client = new SecretClient(vault, Credential(config, variable), options);
    }

    public bool Versions => true;

    public int MaxBatch => 50;

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var answers = new List<ResolvedSecret>(requests.Count);
        using var deadline = Deadline(cancellationToken);
        foreach (var request in requests)
        {
            try
            {
                var response = await _client.GetSecretAsync(request.Path, request.Version, deadline.Token);
                var secret = response.Value;
                // Key Vault always answers a secret with its id and value (25 KiB at most); anything else is not its answer.
                answers.Add(response.GetRawResponse().Content.ToMemory().Length > MaxBody ? ResolvedSecret.Failed($"Key Vault's answer for {request.Path} is over {MaxBody / 1024} KiB")
                    : secret.Value is { } text && secret.Id is not null ? ResolvedSecret.Found(Utf8(text))
                    : ResolvedSecret.Failed($"Key Vault at {_vault.Host} sent an answer for {request.Path} that is not a secret"));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && Failure(e, request.Path) is { } failure)
            {
                answers.Add(failure.Transient ? ResolvedSecret.Failed(failure.Message) : ResolvedSecret.Missing(failure.Message));
            }
        }

        return answers;
    }

    public async Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var versions = new List<SecretVersion>(requests.Count);
        using var deadline = Deadline(cancellationToken);
        foreach (var request in requests)
        {
            try
            {
                SecretProperties? newest = null;
                var count = 0;
                await foreach (var properties in _client.GetPropertiesOfSecretVersionsAsync(request.Path, deadline.Token))
                {
                    count++;
                    if (newest is null || properties.CreatedOn >= newest.CreatedOn)
                    {
                        newest = properties;
                    }
                }

                // Key Vault's times are whole seconds, so two versions made in one second tie (the one listed later wins); the
                // count of versions still moves (versions are never deleted one by one).
                versions.Add(newest?.Version is { } id
                    ? new SecretVersion($"{id}.{count}", newest.UpdatedOn ?? newest.CreatedOn)
                    : new SecretVersion(null, null, $"{request.Path} not found in Key Vault"));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && Failure(e, request.Path) is { } failure)
            {
                versions.Add(new SecretVersion(null, null, failure.Message, failure.Transient));
            }
        }

        return versions;
    }

    public async Task<(bool Ok, string Message)> HealthAsync(CancellationToken cancellationToken)
    {
        using var deadline = Deadline(cancellationToken);
        try
        {
            await foreach (var _ in _client.GetPropertiesOfSecretsAsync(deadline.Token).AsPages(pageSizeHint: 1).WithCancellation(deadline.Token))
            {
                break;
            }

            return (true, $"Key Vault at {_vault.Host} answers");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && Failure(e, "") is { } failure)
        {
            return (false, failure.Message);
        }
    }

    public void Dispose()
    {
    }

    /// <summary>One deadline for a whole call, inside the host's: what is not done by then fails, and the plugin keeps running.</summary>
    private CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_deadline);
        return deadline;
    }

    private static SecretValue Utf8(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            return SecretValue.FromBytes(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>What a failed call means: not found is final, everything else may pass (throttling, 5xx, an expired or refused token, the network).</summary>
    private (string Message, bool Transient)? Failure(Exception e, string path) => e switch
    {
        RequestFailedException { Status: 404 } => ($"{path} not found in Key Vault ({Code(e)})", false),
        RequestFailedException { Status: 403 } f => ($"Key Vault {_vault.Host} refused access{On(path)}: {Code(f)} (grant the identity the 'get' and 'list' secret permissions)", true),
        RequestFailedException { Status: 401 } f => ($"Key Vault {_vault.Host} did not accept the token{On(path)}: {Code(f)}", true),
        RequestFailedException { Status: 429 } f => ($"Key Vault {_vault.Host} is throttling{On(path)}: {Code(f)}", true),
        RequestFailedException { Status: 0 } f => ($"Key Vault at {_vault.Host} is unreachable: {f.InnerException?.Message ?? f.Message}", true),
        RequestFailedException f => ($"Key Vault {_vault.Host} answered {f.Status}{On(path)}: {Code(f)}", true),
        CredentialUnavailableException => ($"no Azure credential: {FirstLine(e.Message)}", true),
        AuthenticationFailedException => ($"Azure sign-in failed: {FirstLine(e.Message)}", true),
        InvalidOperationException when e.Message.Contains("challenge resource", StringComparison.Ordinal) =>
            ($"Key Vault at {_vault.Host} names an audience outside its own domain ({FirstLine(e.Message).Split('\'')[1]}); no token was sent. Check endpoint:, or for a vault behind a custom domain set options.verify_challenge_resource: \"false\"", false),
        OperationCanceledException => ($"Key Vault at {_vault.Host} (with the Azure sign-in) did not answer within {_deadline.TotalSeconds:0.#} s", true),
        System.Text.Json.JsonException or FormatException => ($"Key Vault at {_vault.Host} sent an answer that is not Key Vault JSON", true),
        _ => null,
    };

    private static string On(string path) => path.Length == 0 ? "" : $" for {path}";

    private static string Code(Exception e) => e is RequestFailedException { ErrorCode: { } code } ? code : "no error code";

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    private static TokenCredential Credential(BackendConfig config, Func<string, string?> variable)
    {
        var p = config.AuthParams;
        var authority = p.GetValueOrDefault("authority_host") is { } host ? new Uri(host) : null;
        return (config.AuthMethod ?? "default") switch
        {
            "managed_identity" => new ManagedIdentityCredential(Authority(new ManagedIdentityCredentialOptions(p.GetValueOrDefault("client_id") is { } id
                ? ManagedIdentityId.FromUserAssignedClientId(id)
                : ManagedIdentityId.SystemAssigned), authority, config.Timeout)),
            "workload_identity" => new WorkloadIdentityCredential(Authority(new WorkloadIdentityCredentialOptions
            {
                ClientId = p.GetValueOrDefault("client_id") ?? variable("AZURE_CLIENT_ID"),
                TenantId = p.GetValueOrDefault("tenant_id") ?? variable("AZURE_TENANT_ID"),
                TokenFilePath = p.GetValueOrDefault("token_file") ?? variable("AZURE_FEDERATED_TOKEN_FILE"),
            }, authority, config.Timeout)),
            "client_secret" => new ClientSecretCredential(Need(p, "tenant_id"), Need(p, "client_id"), ReadFile(p, "client_secret_file"), Authority(new ClientSecretCredentialOptions(), authority, config.Timeout)),
            "client_certificate" => new ClientCertificateCredential(Need(p, "tenant_id"), Need(p, "client_id"), Need(p, "certificate_file"), Authority(new ClientCertificateCredentialOptions(), authority, config.Timeout)),
            "cli" => new AzureCliCredential(Authority(new AzureCliCredentialOptions { TenantId = p.GetValueOrDefault("tenant_id"), ProcessTimeout = config.Timeout * 0.8 }, authority, config.Timeout)),
            "env" => new EnvironmentCredential(Authority(new TokenCredentialOptions(), authority, config.Timeout)),
            _ => new DefaultAzureCredential(Authority(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = p.GetValueOrDefault("client_id"),
                TenantId = p.GetValueOrDefault("tenant_id"),
            }, authority, config.Timeout)),
        };
    }

    /// <summary>The sign-in's own settings: the authority (sovereign clouds), one try within part of the call's deadline (DSO retries around the plugin).</summary>
    private static T Authority<T>(T options, Uri? authority, TimeSpan timeout)
        where T : TokenCredentialOptions
    {
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = timeout * 0.4;
        options.Diagnostics.IsLoggingEnabled = false;
        if (authority is not null)
        {
            options.AuthorityHost = authority;
        }

        return options;
    }

    private static string Need(IReadOnlyDictionary<string, string> p, string key) =>
        p.GetValueOrDefault(key) is { Length: > 0 } value ? value : throw new BackendException(PluginErrorCodes.Denied, $"auth.params.{key} is required for this auth method");

    private static string ReadFile(IReadOnlyDictionary<string, string> p, string key)
    {
        var path = Need(p, key);
        try
        {
            return System.IO.File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackendException(PluginErrorCodes.Denied, $"cannot read auth.params.{key} {path}: {e.Message}");
        }
    }
}
