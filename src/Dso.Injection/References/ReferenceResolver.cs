using System.Text.Json;
using Dso.Providers;
using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>
/// Resolves references with one batch per provider, then picks `#JSONKEY` fields. Fails closed:
/// if any reference cannot be resolved, nothing is returned and the error names the first one
/// (with where it was written) and how many others failed.
/// </summary>
internal static class ReferenceResolver
{
    public static async Task<ResolvedValues> ResolveAsync(IEnumerable<ServiceReference> references, ProviderRegistry providers, CancellationToken cancellationToken)
    {
        var outcomes = await ResolveEachAsync(references, providers, cancellationToken);
        var errors = outcomes.Where(o => o.Error is not null).Select(o => $"{o.Reference.Where}: {Named(o.Reference)}: {o.Error}").Distinct().ToList();
        var resolved = new ResolvedValues();
        foreach (var outcome in outcomes)
        {
            if (outcome.Value is null)
            {
                continue;
            }

            if (errors.Count > 0 || resolved.Contains(outcome.Reference.Reference))
            {
                outcome.Value.Dispose();
            }
            else
            {
                resolved.Add(outcome.Reference.Reference, outcome.Value);
            }
        }

        if (errors.Count > 0)
        {
            var more = errors.Count > 1 ? $" (and {errors.Count - 1} more unresolvable reference{(errors.Count > 2 ? "s" : string.Empty)}; 'docker dso validate' lists them all)" : string.Empty;
            throw new UnresolvedReferencesException(errors[0] + more + "; nothing was started", errors);
        }

        return resolved;
    }

    /// <summary>
    /// Resolves each reference on its own account (one batch per provider): a value, or why there
    /// is none. The caller disposes the values.
    /// </summary>
    public static async Task<IReadOnlyList<ReferenceOutcome>> ResolveEachAsync(IEnumerable<ServiceReference> references, ProviderRegistry providers, CancellationToken cancellationToken)
    {
        var outcomes = new List<ReferenceOutcome>();
        try
        {
            foreach (var group in references.GroupBy(r => r.Reference.Provider ?? providers.DefaultName ?? string.Empty, StringComparer.Ordinal))
            {
                if (group.Key.Length == 0)
                {
                    outcomes.AddRange(group.Select(r => new ReferenceOutcome(r, null, $"it names no provider and dso.yaml configures several ({string.Join(", ", providers.Names)}) without defaults.provider; write dso://NAME:{r.Reference.Path}")));
                    continue;
                }

                if (!providers.Contains(group.Key))
                {
                    outcomes.AddRange(group.Select(r => new ReferenceOutcome(r, null, $"provider '{group.Key}' is not configured (configured: {string.Join(", ", providers.Names)})")));
                    continue;
                }

                var requests = group.Select(r => new SecretRequest(r.Reference.Path, r.Reference.Version)).Distinct().ToList();
                var answers = await providers.Get(group.Key).ResolveAsync(requests, cancellationToken);
                var byRequest = requests.Zip(answers).ToDictionary(p => p.First, p => p.Second);
                try
                {
                    foreach (var reference in group)
                    {
                        var answer = byRequest[new SecretRequest(reference.Reference.Path, reference.Reference.Version)];
                        if (answer.Value is null)
                        {
                            outcomes.Add(new ReferenceOutcome(reference, null, answer.Error, answer.Transient));
                            continue;
                        }

                        var picked = Pick(answer.Value, reference, out var problem);
                        outcomes.Add(new ReferenceOutcome(reference, picked, picked is null ? problem : null));
                    }
                }
                finally
                {
                    foreach (var answer in answers)
                    {
                        answer.Value?.Dispose();
                    }
                }
            }
        }
        catch
        {
            outcomes.ForEach(o => o.Value?.Dispose());
            throw;
        }

        return outcomes;
    }

    /// <summary>The reference as an error names it: an `se://` id with the reference dso.yaml's realms map it to.</summary>
    private static string Named(ServiceReference reference) =>
        reference.SecretsEngineId is { } id ? $"se://{id} ({reference.Reference})" : reference.Reference.ToString();

    /// <summary>The whole value, or for `#KEY` the field of a JSON object (a string as is, anything else as JSON).</summary>
    private static SecretValue? Pick(SecretValue value, ServiceReference reference, out string problem)
    {
        problem = string.Empty;
        if (reference.Reference.JsonKey is not { } key)
        {
            return value.Copy();
        }

        try
        {
            using var document = JsonDocument.Parse(value.Reveal().ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = $"#{key} needs a JSON object, but the secret holds a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}";
                return null;
            }

            if (!document.RootElement.TryGetProperty(key, out var field))
            {
                // Field names are not listed: in a secret they may be sensitive too.
                problem = $"the secret's JSON has no field '{key}' (it has {document.RootElement.EnumerateObject().Count()})";
                return null;
            }

            return field.ValueKind == JsonValueKind.String ? SecretValue.FromString(field.GetString()!) : SecretValue.FromString(field.GetRawText());
        }
        catch (JsonException)
        {
            problem = $"#{key} needs the secret to be a JSON object, but it is not valid JSON";
            return null;
        }
    }
}
