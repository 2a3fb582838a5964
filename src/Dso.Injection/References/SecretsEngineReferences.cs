using Dso.Configuration;
using Dso.Injection.Compose;
using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>
/// Docker's own runtime references, `se://ID` in `environment:` or `env_file:` (the Docker Secrets
/// Engine's form, resolved by Docker Desktop when a container starts): each becomes the `dso://`
/// reference dso.yaml's `realms:` map its id to, so the same compose file runs on a server under
/// DSO. The entry is Mapped (the override writes the reference over `se://ID`, which Docker CE would
/// otherwise pass to the container as text) and keeps the id for validate and the agent.
/// </summary>
internal static class SecretsEngineReferences
{
    /// <param name="project">The loaded project.</param>
    /// <param name="config">dso.yaml.</param>
    public static ComposeProject Apply(ComposeProject project, DsoConfig config)
    {
        var active = project.ActiveServices.ToHashSet();
        if (!active.Any(s => s.EffectiveEnvironment.Values.Any(e => SecretsEngineId.IsReference(e.Value))))
        {
            return project;
        }

        var realms = RealmMap.From(config);
        var services = new List<ComposeService>(project.Services.Count);
        foreach (var service in project.Services)
        {
            if (!active.Contains(service))
            {
                services.Add(service);
                continue;
            }

            var added = new List<EnvironmentEntry>();
            foreach (var entry in service.EffectiveEnvironment.Values.Where(e => SecretsEngineId.IsReference(e.Value)))
            {
                var text = entry.Value!;
                if (!SecretsEngineId.TryParseReference(text, out var id, out var problem))
                {
                    throw new DsoException($"{entry.Where}: service {service.Name}, {entry.Name}: invalid reference '{SecretReference.Printable(text)}': {problem}");
                }

                if (!realms.TryMap(id, out var reference, out _, out problem))
                {
                    throw new DsoException($"{entry.Where}: service {service.Name}, {entry.Name}: {problem}");
                }

                added.Add(entry with { Value = reference.ToString(), Mapped = true, SecretsEngineId = id });
            }

            services.Add(added.Count == 0 ? service : service with { Environment = [.. service.Environment, .. added] });
        }

        return project with { Services = services };
    }
}
