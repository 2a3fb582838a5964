using System.Security.Cryptography;
using Dso.Injection.References;
using Dso.Injection.Secrets;
using Dso.Providers;

namespace Dso.Injection.Planning;

/// <summary>
/// Resolves every reference of a stack in one batch per provider — nothing is written if one fails
/// — then writes each service's files into the RAM store and fingerprints what it consumes.
/// Used by `up` in local mode and by the agent.
/// </summary>
internal sealed class LocalMaterializer(ProviderRegistry providers, SecretStore store, FingerprintKey fingerprints) : IStackMaterializer
{
    public string Location(string project) => store.ProjectDirectory(project);

    public Task<MaterializedStack> MaterializeAsync(StackPlan plan, CancellationToken cancellationToken) =>
        MaterializeAsync(plan.Project.Name, [.. plan.Services.Select(s => (s.Service.Name, s.References, s.Owner))], cancellationToken);

    public async Task<MaterializedStack> MaterializeAsync(string project, IReadOnlyList<(string Service, IReadOnlyList<ServiceReference> References, ServiceOwner Owner)> services, CancellationToken cancellationToken)
    {
        using var values = await ReferenceResolver.ResolveAsync(services.SelectMany(s => s.References), providers, cancellationToken);
        var result = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var (service, references, owner) in services)
        {
            var files = ServiceMaterial.Build(references, values, owner);
            try
            {
                result[service] = (store.Materialize(project, service, files), fingerprints.Fingerprint(references, values));
            }
            finally
            {
                foreach (var file in files)
                {
                    CryptographicOperations.ZeroMemory(file.Content);
                }
            }
        }

        return new MaterializedStack(result, values.Count);
    }
}
