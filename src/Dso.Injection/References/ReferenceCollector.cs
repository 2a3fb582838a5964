using Dso.Injection.Compose;
using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>
/// Finds every `dso://` and `dsofile://` reference the active services' environments hold (from
/// `environment:` and `env_file:`), parsed, with where each was written. A malformed reference,
/// or two file references that would land in the same file, stop here.
/// </summary>
internal static class ReferenceCollector
{
    public static IReadOnlyDictionary<string, IReadOnlyList<ServiceReference>> Collect(ComposeProject project)
    {
        var result = new Dictionary<string, IReadOnlyList<ServiceReference>>(StringComparer.Ordinal);
        foreach (var service in project.ActiveServices)
        {
            var references = new List<ServiceReference>();
            foreach (var (variable, entry) in service.EffectiveEnvironment)
            {
                if (!SecretReference.IsReference(entry.Value))
                {
                    continue;
                }

                if (!SecretReference.TryParse(entry.Value!, out var reference, out var problem))
                {
                    throw new DsoException($"{entry.Where}: service {service.Name}, {variable}: invalid reference '{SecretReference.Printable(entry.Value!)}': {SecretReference.Printable(problem, 400)}");
                }

                if (variable.IndexOfAny(['\t', '\n']) >= 0)
                {
                    throw new DsoException($"{entry.Where}: service {service.Name}: the variable name '{variable}' has a tab or newline");
                }

                references.Add(new ServiceReference(service.Name, variable, entry.Value!, reference, entry.Where, entry.Mapped, entry.Rotation, entry.SecretsEngineId));
            }

            CheckFileNames(service.Name, references);
            if (references.Count > 0)
            {
                result[service.Name] = references;
            }
        }

        return result;
    }

    private static void CheckFileNames(string service, List<ServiceReference> references)
    {
        if (SecretReference.FileNameClash([.. references.Select(r => (r.Variable, r.Reference))]) is var (index, problem))
        {
            throw new DsoException($"{references[index].Where}: service {service}: {problem}");
        }
    }
}
