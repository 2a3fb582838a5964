using System.Security.Cryptography;
using Dso.Injection.Secrets;

namespace Dso.Agent.Rotation;

/// <summary>A service's values resolved fresh for a rotation, and the fingerprint of what it consumes. Disposing zeroes them.</summary>
internal interface IPreparedValues : IDisposable
{
    string Fingerprint { get; }
}

/// <summary>A compose service's secrets resolved fresh, as the files its directory will hold, and their fingerprint. Disposing zeroes the bytes.</summary>
internal sealed record PreparedSecrets(IReadOnlyList<SecretFile> Files, string Fingerprint) : IPreparedValues
{
    public void Dispose()
    {
        foreach (var file in Files)
        {
            CryptographicOperations.ZeroMemory(file.Content);
        }
    }
}

/// <summary>A Swarm stack service's new secret versions (one service of <paramref name="Material"/>), and their fingerprint.</summary>
internal sealed record PreparedVersions(Dso.Injection.Swarm.SwarmMaterial Material) : IPreparedValues
{
    public string Fingerprint => Material.Services.Single().Fingerprint;

    public void Dispose() => Material.Dispose();
}
