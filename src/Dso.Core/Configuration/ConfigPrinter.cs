using System.Collections;
using System.Globalization;

namespace Dso.Configuration;

/// <summary>
/// The effective configuration as a plain tree (maps, lists, strings) for `config show`: every key
/// with its value or default, credentials (keys marked Secret) replaced by "[redacted]".
/// </summary>
internal static class ConfigPrinter
{
    public const string Redacted = "[redacted]";

    public static SortedDictionary<string, object?> Tree(DsoConfig config) => (SortedDictionary<string, object?>)Node(config, secret: false)!;

    private static object? Node(object? value, bool secret)
    {
        if (value is null)
        {
            return null;
        }

        if (secret)
        {
            return value is IDictionary { Count: > 0 } or string { Length: > 0 } ? Redacted : Node(value, secret: false);
        }

        switch (value)
        {
            case string text:
                return text;
            case bool flag:
                return flag ? "true" : "false";
            case int number:
                return number.ToString(CultureInfo.InvariantCulture);
            case TimeSpan duration:
                return Duration.Format(duration);
            case IDictionary map:
                var dictionary = new SortedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (DictionaryEntry entry in map)
                {
                    dictionary[(string)entry.Key] = Node(entry.Value, secret: false);
                }

                return dictionary;
            case IList list:
                return list.Cast<object?>().Select(item => Node(item, secret: false)).ToList();
        }

        var section = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (property, key) in ConfigBinder.Keys(value.GetType()))
        {
            section[key.Name] = Node(property.GetValue(value), key.Secret);
        }

        return section;
    }
}
