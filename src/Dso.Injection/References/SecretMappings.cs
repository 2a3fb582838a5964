using Dso.Configuration;
using Dso.Injection.Compose;
using Dso.Ipc;
using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>
/// dso.yaml's `secrets:` (the seed's agent-mode model, for compose files that hold no reference):
/// each entry maps environment variables to provider paths for the services that name it in the
/// label `dso.secrets: a,b`, that its `targets.containers` lists, or whose labels match all of its
/// `targets.labels`. A mapped variable becomes the reference `dso://[PROVIDER:]PATH` (or
/// `dsofile://…` with `inject.type: file`) in that service's environment, exactly as if the
/// compose file said so; the compose file may leave it out or set it to "" as a placeholder.
/// </summary>
internal static class SecretMappings
{
    public const string SecretsLabel = "dso.secrets";

    /// <param name="project">The loaded project.</param>
    /// <param name="config">dso.yaml.</param>
    /// <param name="configFile">Its path, for messages (null: none was found).</param>
    public static ComposeProject Apply(ComposeProject project, DsoConfig config, string? configFile)
    {
        var file = configFile is null ? "dso.yaml" : Path.GetFileName(configFile);
        var entries = config.Secrets;
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Name is { Length: > 0 } name && !byName.TryAdd(name, i))
            {
                throw new DsoException($"{file}: secrets[{i}]: the name '{name}' is also secrets[{byName[name]}]'s; names must be unique");
            }
        }

        var services = new List<ComposeService>(project.Services.Count);
        var warnings = new List<string>(project.Warnings);
        foreach (var service in project.Services)
        {
            var chosen = Targeting(service, entries, byName, file);
            var mapped = chosen.Count == 0 ? service : service with { Environment = Mapped(service, chosen, entries, config, file) };
            services.Add(mapped);
            if (chosen.Count > 0)
            {
                // The seed's placeholders (`MYSQL_PASSWORD: ""`) that no mapping fills would start the service with an empty value.
                warnings.AddRange(mapped.EffectiveEnvironment.Values
                    .Where(e => e.Value is "" && !e.Mapped)
                    .Select(e => $"{e.Where}: service {service.Name}, {e.Name} is \"\" and no dso.yaml secrets entry that targets the service maps it, so it starts empty"));
            }
        }

        return project with { Services = services, Warnings = warnings };
    }

    /// <summary>The entries (by index) that target a service, in dso.yaml's order.</summary>
    private static SortedSet<int> Targeting(ComposeService service, List<SecretMappingConfig> entries, Dictionary<string, int> byName, string file)
    {
        var chosen = new SortedSet<int>();
        if (service.Labels.TryGetValue(SecretsLabel, out var named))
        {
            foreach (var name in named.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!byName.TryGetValue(name, out var index))
                {
                    var known = byName.Count == 0 ? "it has none" : "it has " + string.Join(", ", byName.Keys.Order(StringComparer.Ordinal));
                    throw new DsoException($"{service.Where}: service {service.Name}, label {SecretsLabel}: {file} has no secrets entry named '{name}' ({known}); add it under secrets: or fix the label");
                }

                chosen.Add(index);
            }
        }

        for (var i = 0; i < entries.Count; i++)
        {
            var targets = entries[i].Targets;
            // The seed calls these container names: a service's container_name counts as well as its name.
            if (targets.Containers.Contains(service.Name, StringComparer.Ordinal)
                || (service.ContainerName is { } containerName && targets.Containers.Contains(containerName, StringComparer.Ordinal))
                || (targets.Labels.Count > 0 && targets.Labels.All(l => service.Labels.TryGetValue(l.Key, out var value) && value == l.Value)))
            {
                chosen.Add(i);
            }
        }

        return chosen;
    }

    private static List<EnvironmentEntry> Mapped(ComposeService service, SortedSet<int> chosen, List<SecretMappingConfig> entries, DsoConfig config, string file)
    {
        var environment = service.EffectiveEnvironment;
        var added = new Dictionary<string, EnvironmentEntry>(StringComparer.Ordinal);
        foreach (var index in chosen)
        {
            var entry = entries[index];
            var label = entry.Name is { Length: > 0 } name ? $"secrets[{index}] ({name})" : $"secrets[{index}]";
            var scheme = (entry.Inject ?? config.Defaults.Inject).Type == "file" ? SecretReference.FileScheme : SecretReference.EnvScheme;
            var rotation = RotationOf(entry.Rotation);
            foreach (var (variable, path) in entry.Mappings)
            {
                var where = $"{file}: {label}.mappings.{variable}";
                if (variable.Length == 0 || !variable.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(variable[0]))
                {
                    throw new DsoException($"{where}: '{variable}' is not an environment variable name (letters, digits and '_', not starting with a digit)");
                }

                var text = scheme + (entry.Provider is { Length: > 0 } provider ? provider + ":" : string.Empty) + path;
                if (!SecretReference.TryParse(text, out _, out var problem))
                {
                    throw new DsoException($"{where}: '{SecretReference.Printable(path)}' is not a provider path DSO can use: {SecretReference.Printable(problem, 400)}");
                }

                if (added.TryGetValue(variable, out var other) && other.Value != text)
                {
                    throw new DsoException($"{where}: service {service.Name} gets {variable} from {other.Where} too, with another path; map it in one entry only");
                }

                if (environment.TryGetValue(variable, out var written) && !string.IsNullOrEmpty(written.Value) && written.Value != text)
                {
                    throw new DsoException($"{written.Where}: service {service.Name}, {variable} has a value and {where} maps it too; leave it empty ({variable}: \"\") or remove it from one of them");
                }

                added[variable] = new EnvironmentEntry(variable, text, where, Mapped: true, rotation);
            }
        }

        // Mapped entries go last: they stand over the compose file's empty placeholders.
        return [.. service.Environment, .. added.Values];
    }

    private static SecretRotation? RotationOf(RotationConfig? rotation)
    {
        if (rotation is null)
        {
            return null;
        }

        var strategy = rotation.Enabled == false ? "none" : rotation.Strategy;
        return strategy is null && rotation.Signal is null && rotation.HealthCheckTimeout is null && rotation.GracePeriod is null
            ? null
            : new SecretRotation(strategy, rotation.Signal is null ? null : SignalName.Normalize(rotation.Signal), rotation.HealthCheckTimeout, rotation.GracePeriod);
    }
}
