namespace Dso.Configuration;

/// <summary>Signal names a rotation may send (`SIGHUP`, `HUP` or a number), as the engine's kill call takes them.</summary>
internal static class SignalName
{
    private static readonly string[] Known =
        ["SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGWINCH", "SIGALRM", "SIGCONT", "SIGTSTP", "SIGPWR", "SIGIO"];

    /// <summary>The canonical form (`SIGHUP`, or the number as written), or null when it is not a signal.</summary>
    public static string? Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim().ToUpperInvariant();
        if (int.TryParse(trimmed, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return number is > 0 and < 65 ? trimmed : null;
        }

        var name = trimmed.StartsWith("SIG", StringComparison.Ordinal) ? trimmed : "SIG" + trimmed;
        return Known.Contains(name, StringComparer.Ordinal) ? name : null;
    }

    public static string Expected => $"a signal name ({string.Join(", ", Known)}) or number";
}
