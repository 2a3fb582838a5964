namespace Dso.Configuration;

/// <summary>
/// Marks a property of a configuration class as the dso.yaml key <see cref="Name"/>. The binder,
/// the generated docs and the JSON Schema all read these, so a key is described in one place.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class ConfigKeyAttribute(string name, string description) : Attribute
{
    public string Name { get; } = name;

    public string Description { get; } = description;

    /// <summary>The only values a string key accepts, when set.</summary>
    public string[]? Allowed { get; init; }

    /// <summary>A credential: `config show` prints it redacted.</summary>
    public bool Secret { get; init; }
}
