using System.Text.Json;
using Dso.Native;
using Dso.Secrets;

namespace Dso.Providers.File;

/// <summary>
/// Secrets from a plain JSON file of `"path": "value"` pairs, read on every call so edits are seen.
/// For development and tests only: the values sit unencrypted on disk (status and docs say so).
/// The file must be owner-only, like the vault.
/// </summary>
internal sealed class FileSecretProvider(string name, string path) : ISecretProvider, IWatchableProvider
{
    public string Name => name;

    public string WatchedFile => path;

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        if (!System.IO.File.Exists(path))
        {
            return Fail(requests, $"provider {name}: {path} does not exist");
        }

        if ((System.IO.File.GetUnixFileMode(path) & UnixFiles.GroupOrOther) != 0)
        {
            return Fail(requests, $"provider {name}: {path} is readable by group or others; run: chmod 600 {path}");
        }

        var bytes = await System.IO.File.ReadAllBytesAsync(path, cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Fail(requests, $"provider {name}: {path} must hold a JSON object of \"path\": \"value\"");
            }

            return [.. requests.Select(request => Resolve(document.RootElement, request))];
        }
        catch (JsonException)
        {
            return Fail(requests, $"provider {name}: {path} is not valid JSON");
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private ResolvedSecret Resolve(JsonElement root, SecretRequest request)
    {
        if (request.Version is not null)
        {
            return ResolvedSecret.Missing($"provider {name} keeps no versions (@{request.Version})");
        }

        if (!root.TryGetProperty(request.Path, out var value))
        {
            return ResolvedSecret.Missing($"provider {name}: no secret named {request.Path} in {path}");
        }

        return value.ValueKind == JsonValueKind.String
            ? ResolvedSecret.Found(SecretValue.FromString(value.GetString()!))
            : ResolvedSecret.Found(SecretValue.FromString(value.GetRawText()));
    }

    private static ResolvedSecret[] Fail(IReadOnlyList<SecretRequest> requests, string error) =>
        [.. requests.Select(_ => ResolvedSecret.Failed(error))];
}
