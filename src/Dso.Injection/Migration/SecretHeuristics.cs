using System.Text.RegularExpressions;

namespace Dso.Injection.Migration;

/// <summary>
/// Decides whether a plain-text environment value looks like a secret: its variable is named like
/// one (PASSWORD, TOKEN, API_KEY, …), it is a URL carrying a password, or it is a long random-looking
/// word (letters and digits, at least 20 characters, at least 3.5 bits of entropy per character).
/// Numbers, booleans, paths and references (DSO's and Docker's `se://`) are never secrets.
/// </summary>
internal static partial class SecretHeuristics
{
    public const string ByName = "name";
    public const string ByUrlPassword = "password in URL";
    public const string ByEntropy = "entropy";

    /// <summary>Why <paramref name="value"/> of <paramref name="variable"/> looks like a secret, or null.</summary>
    public static string? Reason(string variable, string? value)
    {
        if (string.IsNullOrEmpty(value) || Dso.Secrets.SecretReference.IsReference(value) || Dso.Secrets.SecretsEngineId.IsReference(value) || MistypedReference().IsMatch(value)
            || Inert().IsMatch(value) || (variable.EndsWith("_FILE", StringComparison.Ordinal) && value.StartsWith('/')))
        {
            return null;
        }

        if (UrlWithPassword().IsMatch(value))
        {
            return ByUrlPassword;
        }

        if (IsSecretName(variable))
        {
            return ByName;
        }

        return value.Length >= 20 && RandomWord().IsMatch(value) && value.Any(char.IsAsciiDigit) && value.Any(char.IsAsciiLetter)
            && Entropy(value) >= 3.5 ? ByEntropy : null;
    }

    /// <summary>True when a variable's name says it holds a secret.</summary>
    public static bool IsSecretName(string variable) => SecretName().IsMatch(variable);

    /// <summary>True when a value is a DSO reference with its `//` missing (`dso:/x`, `dsofile:x`).</summary>
    public static bool IsMistypedReference(string value) => MistypedReference().IsMatch(value);

    /// <summary>Shannon entropy in bits per character.</summary>
    public static double Entropy(string value)
    {
        var counts = value.GroupBy(c => c).Select(g => (double)g.Count());
        return -counts.Sum(n => n / value.Length * Math.Log2(n / value.Length));
    }

    [GeneratedRegex("(PASS(WORD|WD)?|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [GeneratedRegex("^dso(file)?:(?!//)", RegexOptions.IgnoreCase)]
    private static partial Regex MistypedReference();

    // Numbers, booleans and paths: configuration, not secrets, whatever the variable is called.
    [GeneratedRegex(@"^(-?[0-9]+(\.[0-9]+)?|true|false|yes|no|on|off|none|null|[./~].*)$", RegexOptions.IgnoreCase)]
    private static partial Regex Inert();

    [GeneratedRegex(@"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlWithPassword();

    [GeneratedRegex(@"^[A-Za-z0-9+/=_.~-]+$")]
    private static partial Regex RandomWord();
}
