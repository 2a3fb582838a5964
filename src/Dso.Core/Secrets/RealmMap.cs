using Dso.Configuration;

namespace Dso.Secrets;

/// <summary>
/// dso.yaml's `realms:` — which provider and path a Docker Secrets Engine id (`se://ID`) resolves
/// through. The first pattern that matches the id wins; an id none matches resolves through the
/// default provider under its own name. A realm's `path` stands for the pattern's literal start,
/// and the rest of the id is appended to it: `docker/db/**` with path `prod/db` maps
/// `docker/db/password` to `prod/db/password`.
/// </summary>
internal sealed class RealmMap(IReadOnlyList<(string Pattern, RealmConfig Realm)> realms)
{
    /// <summary>The pattern an id that no realm matches falls under.</summary>
    public const string DefaultPattern = "**";

    public static RealmMap From(DsoConfig config) => new([.. config.Realms.Select(r => (r.Key, r.Value))]);

    /// <summary>The ids realms name exactly (patterns without a wildcard), in dso.yaml's order.</summary>
    public IEnumerable<string> ExactIds => realms.Select(r => r.Pattern).Where(p => !SecretsEngineId.HasWildcard(p));

    /// <summary>
    /// The `dso://` reference a valid id resolves as, and the realm that chose it; false with a
    /// one-line problem when the mapped path is not one DSO can use.
    /// </summary>
    public bool TryMap(string id, out SecretReference reference, out string realm, out string problem)
    {
        var index = realms.ToList().FindIndex(r => SecretsEngineId.Matches(r.Pattern, id));
        var entry = index < 0 ? null : realms[index].Realm;
        realm = index < 0 ? DefaultPattern : realms[index].Pattern;
        var path = id;
        if (entry?.Path is { } root)
        {
            var rest = id.Split('/').Skip(SecretsEngineId.LiteralComponents(realm)).ToList();
            path = rest.Count == 0 ? root : root + "/" + string.Join('/', rest);
        }

        if (path.Contains(':', StringComparison.Ordinal))
        {
            reference = null!;
            problem = $"se://{id} maps to the path '{path}' (realms \"{realm}\"), and ':' cannot be part of a provider path; map the id to a path with realms: in dso.yaml";
            return false;
        }

        var text = SecretReference.EnvScheme + (entry?.Provider is { } provider ? provider + ":" : string.Empty) + path;
        if (!SecretReference.TryParse(text, out reference, out var why))
        {
            problem = $"se://{id} maps to {text} (realms \"{realm}\"), which is not a reference DSO can use: {why}; map the id to another path with realms: in dso.yaml";
            return false;
        }

        problem = string.Empty;
        return true;
    }
}
