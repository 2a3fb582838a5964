using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dso.Configuration;

/// <summary>
/// Generates docs/configuration.md's key table and schema/dso.schema.json from the configuration
/// classes (their <see cref="ConfigKeyAttribute"/>s and property initializers), so the reference
/// cannot drift from the code. Tests compare the committed files with these.
/// </summary>
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2077", Justification = "Configuration classes are preserved by ILLink.Descriptors.xml.")]
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Configuration classes are preserved by ILLink.Descriptors.xml.")]
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "Configuration classes are preserved by ILLink.Descriptors.xml.")]
internal static class ConfigDocs
{
    public static string KeyTable()
    {
        var text = new StringBuilder("| key | type | default | meaning |\n|---|---|---|---|\n");
        foreach (var (path, key, type, defaultValue) in Walk(typeof(DsoConfig), new DsoConfig(), string.Empty))
        {
            text.Append(CultureInfo.InvariantCulture, $"| `{path}` | {TypeName(type, key)} | {defaultValue} | {key.Description.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        }

        return text.ToString();
    }

    public static string JsonSchema()
    {
        var schema = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "dso.yaml",
            ["description"] = "DSO configuration (docs/configuration.md).",
        };
        foreach (var (name, value) in Schema(typeof(DsoConfig), null).ToList())
        {
            schema[name] = value?.DeepClone();
        }

        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    private static IEnumerable<(string Path, ConfigKeyAttribute Key, Type Type, string Default)> Walk(Type type, object? instance, string prefix)
    {
        foreach (var (property, key) in ConfigBinder.Keys(type))
        {
            var path = prefix.Length == 0 ? key.Name : $"{prefix}.{key.Name}";
            var value = instance is null ? null : property.GetValue(instance);
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            yield return (path, key, propertyType, Default(value, key));
            var (childType, childPath) = Element(propertyType, path);
            if (childType is not null && ConfigBinder.IsSection(childType))
            {
                var childInstance = childType == propertyType ? value ?? Activator.CreateInstance(childType) : Activator.CreateInstance(childType);
                foreach (var child in Walk(childType, childInstance, childPath))
                {
                    yield return child;
                }
            }
        }
    }

    private static (Type? Type, string Path) Element(Type type, string path)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            return (type.GetGenericArguments()[1], path + ".NAME");
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            return (type.GetGenericArguments()[0], path + "[]");
        }

        return (type, path);
    }

    private static string TypeName(Type type, ConfigKeyAttribute key)
    {
        if (key.Allowed is { } allowed)
        {
            return "one of " + string.Join(", ", allowed.Select(a => $"`{a}`"));
        }

        if (type == typeof(string))
        {
            return "string";
        }

        if (type == typeof(bool))
        {
            return "boolean";
        }

        if (type == typeof(int))
        {
            return "integer";
        }

        if (type == typeof(TimeSpan))
        {
            return "duration";
        }

        var (element, _) = Element(type, string.Empty);
        return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? $"list of {Noun(element!)}"
            : type.IsGenericType ? $"map of name → {Noun(element!)}"
            : "section";
    }

    private static string Noun(Type type) => type == typeof(string) ? "string" : "section";

    private static string Default(object? value, ConfigKeyAttribute key) => value switch
    {
        null => "—",
        _ when key.Secret => "—",
        string s => $"`{s}`",
        bool b => b ? "`true`" : "`false`",
        int i => $"`{i.ToString(CultureInfo.InvariantCulture)}`",
        TimeSpan t => $"`{Duration.Format(t)}`",
        ICollection { Count: 0 } => "empty",
        _ => "—",
    };

    private static JsonObject Schema(Type type, ConfigKeyAttribute? key)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        JsonObject node;
        if (underlying == typeof(string))
        {
            node = new JsonObject { ["type"] = "string" };
            if (key?.Allowed is { } allowed)
            {
                node["enum"] = new JsonArray([.. allowed.Select(a => (JsonNode)JsonValue.Create(a)!)]);
            }
        }
        else if (underlying == typeof(bool))
        {
            node = new JsonObject { ["type"] = "boolean" };
        }
        else if (underlying == typeof(int))
        {
            node = new JsonObject { ["type"] = "integer" };
        }
        else if (underlying == typeof(TimeSpan))
        {
            node = new JsonObject { ["type"] = "string", ["pattern"] = @"^\d+(\.\d+)?(ms|s|m|h)?$" };
        }
        else if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(List<>))
        {
            node = new JsonObject { ["type"] = "array", ["items"] = Schema(underlying.GetGenericArguments()[0], null) };
        }
        else if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            node = new JsonObject { ["type"] = "object", ["additionalProperties"] = Schema(underlying.GetGenericArguments()[1], null) };
        }
        else
        {
            var properties = new JsonObject();
            foreach (var (property, child) in ConfigBinder.Keys(underlying))
            {
                properties[child.Name] = Schema(property.PropertyType, child);
            }

            node = new JsonObject { ["type"] = "object", ["additionalProperties"] = false, ["properties"] = properties };
        }

        if (key is not null)
        {
            node["description"] = key.Description;
        }

        return node;
    }
}
