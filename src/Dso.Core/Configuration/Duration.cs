using System.Globalization;
using System.Text.RegularExpressions;

namespace Dso.Configuration;

/// <summary>Durations in dso.yaml: `500ms`, `30s`, `5m`, `1h`, `1.5s` (a bare number is seconds).</summary>
internal static partial class Duration
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var match = Pattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        value = match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "m" => TimeSpan.FromMinutes(number),
            "h" => TimeSpan.FromHours(number),
            _ => TimeSpan.FromSeconds(number),
        };
        return true;
    }

    public static string Format(TimeSpan value) =>
        value.TotalMilliseconds % 1000 != 0 ? $"{value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms"
        : value.TotalSeconds % 60 != 0 || value.TotalSeconds < 60 ? $"{value.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s"
        : value.TotalMinutes % 60 != 0 || value.TotalMinutes < 60 ? $"{value.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m"
        : $"{value.TotalHours.ToString(CultureInfo.InvariantCulture)}h";

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")]
    private static partial Regex Pattern();
}
