using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Dso.Yaml;

namespace Dso.Configuration;

/// <summary>
/// Binds a YAML tree onto configuration classes whose properties carry <see cref="ConfigKeyAttribute"/>.
/// Strict: an unknown key, a wrong type or a value outside its allowed set is an error naming the
/// file, line and key path. Supported property types: string, bool, int, TimeSpan (durations),
/// nested configuration classes, List&lt;T&gt; and Dictionary&lt;string, T&gt; (of strings or
/// configuration classes; a collection property must start with an empty instance, which the binder
/// fills, so no collection type is ever created by reflection).
/// </summary>
/// <remarks>
/// Reflection here reaches only the classes of this namespace, which ILLink.Descriptors.xml keeps
/// whole (properties, attributes, constructors) in a trimmed or NativeAOT build; hence the
/// suppressed trim warnings.
/// </remarks>
[UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "Configuration classes are preserved by ILLink.Descriptors.xml.")]
[UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Configuration classes are preserved by ILLink.Descriptors.xml.")]
[UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Configuration classes are preserved by ILLink.Descriptors.xml.")]
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Configuration classes are preserved by ILLink.Descriptors.xml.")]
internal static class ConfigBinder
{
    public static T Bind<T>(YMap root)
        where T : new() => (T)BindObject(typeof(T), root, string.Empty);

    /// <summary>The keyed properties of a configuration class, in declaration order.</summary>
    public static IEnumerable<(PropertyInfo Property, ConfigKeyAttribute Key)> Keys(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Key: p.GetCustomAttribute<ConfigKeyAttribute>()))
            .Where(p => p.Key is not null)
            .Select(p => (p.Property, p.Key!));

    public static bool IsSection(Type type) => type.IsClass && type != typeof(string) && Keys(type).Any();

    private static object BindObject(Type type, YNode node, string path)
    {
        var instance = Activator.CreateInstance(type)!;
        if (node is YScalar { Value: null })
        {
            return instance;
        }

        if (node is not YMap map)
        {
            throw Error(node, path, "must be a mapping of keys to values");
        }

        var keys = Keys(type).ToDictionary(k => k.Key.Name, StringComparer.Ordinal);
        for (var entry = 0; entry < map.Entries.Count; entry++)
        {
            var (name, value) = map.Entries[entry];
            var keyPath = path.Length == 0 ? name : $"{path}.{name}";
            if (!keys.TryGetValue(name, out var key))
            {
                throw new DsoException($"{map.WhereKey(entry)}: {keyPath} is not a known key{(path.Length == 0 ? string.Empty : $" of {path}")} (known: {string.Join(", ", keys.Keys)})");
            }

            if (IsCollection(key.Property.PropertyType))
            {
                var collection = key.Property.GetValue(instance)
                    ?? throw new InvalidOperationException($"configuration collection {keyPath} has no initial instance");
                Fill(collection, key.Property.PropertyType, value, keyPath, key.Key);
            }
            else
            {
                key.Property.SetValue(instance, BindValue(key.Property.PropertyType, value, keyPath, key.Key));
            }
        }

        return instance;
    }

    private static object? BindValue(Type type, YNode node, string path, ConfigKeyAttribute? key)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (node is YScalar { Value: null } && (underlying != type || !type.IsValueType))
        {
            return IsSection(type) ? Activator.CreateInstance(type) : null;
        }

        if (underlying == typeof(string))
        {
            var text = Scalar(node, path, "a string");
            if (key?.Allowed is { } allowed && !allowed.Contains(text, StringComparer.Ordinal))
            {
                throw Error(node, path, $"'{text}' is not one of {string.Join(", ", allowed)}");
            }

            return text;
        }

        if (underlying == typeof(bool))
        {
            return Scalar(node, path, "true or false").ToLowerInvariant() switch
            {
                "true" or "yes" or "on" => true,
                "false" or "no" or "off" => false,
                var other => throw Error(node, path, $"'{other}' is not true or false"),
            };
        }

        if (underlying == typeof(int))
        {
            var text = Scalar(node, path, "a whole number");
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
                ? number
                : throw Error(node, path, $"'{text}' is not a whole number");
        }

        if (underlying == typeof(TimeSpan))
        {
            var text = Scalar(node, path, "a duration");
            return Duration.TryParse(text, out var duration)
                ? duration
                : throw Error(node, path, $"'{text}' is not a duration (write 500ms, 30s, 5m or 1h)");
        }

        if (IsSection(type))
        {
            return BindObject(type, node, path);
        }

        throw new InvalidOperationException($"configuration type {type} of {path} is not supported by the binder");
    }

    private static bool IsCollection(Type type) =>
        type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(List<>) || type.GetGenericTypeDefinition() == typeof(Dictionary<,>));

    /// <summary>Fills a property's own (empty) List&lt;T&gt; or Dictionary&lt;string, T&gt; from the node; null leaves it empty.</summary>
    private static void Fill(object collection, Type type, YNode node, string path, ConfigKeyAttribute key)
    {
        if (node is YScalar { Value: null })
        {
            return;
        }

        var arguments = type.GetGenericArguments();
        if (collection is IList list)
        {
            switch (node)
            {
                case YSeq seq:
                    for (var i = 0; i < seq.Items.Count; i++)
                    {
                        list.Add(BindValue(arguments[0], seq.Items[i], $"{path}[{i}]", key));
                    }

                    return;
                case YMap { Entries.Count: 0 }:
                    return;
                default:
                    throw Error(node, path, "must be a list");
            }
        }

        var dictionary = (IDictionary)collection;
        if (node is not YMap map)
        {
            throw Error(node, path, "must be a mapping");
        }

        foreach (var (name, child) in map.Entries)
        {
            dictionary[name] = BindValue(arguments[1], child, $"{path}.{name}", null);
        }
    }

    private static string Scalar(YNode node, string path, string expected) =>
        node is YScalar { Value: { } text } ? text : throw Error(node, path, $"must be {expected}");

    private static DsoException Error(YNode node, string path, string problem) => new($"{node.Where}: {path} {problem}");
}
