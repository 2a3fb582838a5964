using System.Globalization;
using System.Security.Cryptography;
using Dso.Injection.Planning;
using Dso.Injection.References;

namespace Dso.Injection.Swarm;

/// <summary>One Swarm secret version DSO needs: its name, labels (never a value) and bytes.</summary>
internal sealed record SwarmSecret(string Name, IReadOnlyDictionary<string, string> Labels, byte[] Data);

/// <summary>How a task sees one secret: the file at <paramref name="Target"/> with its owner and mode.</summary>
internal sealed record SwarmSecretMount(string SecretName, string Target, string Uid, string Gid, UnixFileMode Mode);

/// <summary>The secret versions one service's tasks mount, and the fingerprint of what they consume.</summary>
internal sealed record SwarmServiceSecrets(string Service, IReadOnlyList<SwarmSecretMount> Mounts, string Fingerprint);

/// <summary>
/// A stack's secrets as Swarm secrets: each file a service's RAM directory would hold on one host
/// (<see cref="ServiceMaterial"/>: `.dso-env/N` for dso:// variables, dsofile:// files, the
/// launcher's manifest) becomes one Swarm secret mounted at the same path under
/// /run/secrets/dso, so dso-init works unchanged. Disposing zeroes the bytes.
/// </summary>
internal sealed class SwarmMaterial : IDisposable
{
    private SwarmMaterial(IReadOnlyList<SwarmSecret> secrets, IReadOnlyList<SwarmServiceSecrets> services)
    {
        Secrets = secrets;
        Services = services;
    }

    public IReadOnlyList<SwarmSecret> Secrets { get; }

    public IReadOnlyList<SwarmServiceSecrets> Services { get; }

    public static SwarmMaterial Build(string stack, IReadOnlyList<(string Service, IReadOnlyList<ServiceReference> References, ServiceOwner Owner)> services, ResolvedValues values, FingerprintKey fingerprints)
    {
        var secrets = new Dictionary<string, SwarmSecret>(StringComparer.Ordinal);
        var result = new List<SwarmServiceSecrets>();
        foreach (var (service, references, owner) in services)
        {
            var mounts = new List<SwarmSecretMount>();
            foreach (var file in ServiceMaterial.Build(references, values, owner))
            {
                var fingerprint = fingerprints.Fingerprint($"swarm\0{stack}\0{service}\0{file.RelativePath}", file.Content);
                var name = SwarmNames.Secret(stack, service, file.RelativePath, fingerprint);
                var target = $"{OverrideBuilder.SecretsMountPath}/{file.RelativePath}";
                if (!secrets.TryAdd(name, new SwarmSecret(name, Labels(stack, service, target, fingerprint), file.Content)))
                {
                    CryptographicOperations.ZeroMemory(file.Content);
                }

                mounts.Add(new SwarmSecretMount(name, target, Id(file.Uid), Id(file.Gid), file.Mode));
            }

            result.Add(new SwarmServiceSecrets(service, mounts, fingerprints.Fingerprint(references, values)));
        }

        return new SwarmMaterial([.. secrets.Values], result);
    }

    public void Dispose()
    {
        foreach (var secret in Secrets)
        {
            CryptographicOperations.ZeroMemory(secret.Data);
        }
    }

    private static Dictionary<string, string> Labels(string stack, string service, string target, string fingerprint) => new(StringComparer.Ordinal)
    {
        [SwarmNames.ManagedLabel] = "true",
        [SwarmNames.StackLabel] = stack,
        [SwarmNames.ServiceLabel] = service,
        [SwarmNames.TargetLabel] = target,
        [SwarmNames.FingerprintLabel] = fingerprint,
        [SwarmNames.StackNamespaceLabel] = stack,
    };

    /// <summary>The manifest has no owner of its own (-1 on one host): in a task it belongs to root and is readable by all.</summary>
    private static string Id(int id) => (id < 0 ? 0 : id).ToString(CultureInfo.InvariantCulture);
}
