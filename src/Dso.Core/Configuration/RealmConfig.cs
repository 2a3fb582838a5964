namespace Dso.Configuration;

/// <summary>One entry of `realms:`: where the Docker Secrets Engine ids (`se://ID`) its pattern matches are resolved.</summary>
internal sealed class RealmConfig
{
    [ConfigKey("provider", "The provider the realm's ids resolve through (a key of providers:, or local). Default: defaults.provider.")]
    public string? Provider { get; set; }

    [ConfigKey("path", "The provider path the pattern's literal start stands for; the rest of the id is appended (`docker/db/**` with path `prod/db`: `se://docker/db/password` is `prod/db/password`). Default: the id itself.")]
    public string? Path { get; set; }
}
