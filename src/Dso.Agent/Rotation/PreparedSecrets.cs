using System.Security.Cryptography;
using Dso.Injection.Secrets;

namespace Dso.Agent.Rotation;

/// <summary>A service's secrets resolved fresh, as the files its directory will hold, and their fingerprint. Disposing zeroes the bytes.</summary>
internal sealed record PreparedSecrets(IReadOnlyList<SecretFile> Files, string Fingerprint) : IDisposable
{
    public void Dispose()
    {
        foreach (var file in Files)
        {
            CryptographicOperations.ZeroMemory(file.Content);
        }
    }
}
