using System.Text;

namespace Dso.Injection.Swarm;

/// <summary>
/// Names of the Swarm objects DSO makes. A secret version is `STACK_SERVICE_FILE-FINGERPRINT`: the
/// file it becomes in the task (`.dso-env/0`, `db.pem`, `.dso-manifest`) and a prefix of the keyed
/// HMAC of its bytes, so a new value is a new name and an unchanged one keeps its name. Swarm allows
/// letters, digits, `-`, `_`, `.` and 64 characters; other characters become `-` and a long middle
/// is shortened, never the fingerprint.
/// </summary>
internal static class SwarmNames
{
    public const int MaxLength = 64;
    public const int FingerprintLength = 12;

    /// <summary>A stack name's limit, so STACK_SERVICE_FILE keeps room for the service and file.</summary>
    public const int MaxStackLength = 32;

    /// <summary>Labels on every secret DSO creates (with <see cref="StackNamespaceLabel"/>, so `docker stack rm` removes them too).</summary>
    public const string ManagedLabel = "dso.managed";
    public const string StackLabel = "dso.stack";
    public const string ServiceLabel = "dso.service";
    public const string TargetLabel = "dso.target";
    public const string FingerprintLabel = "dso.fingerprint";
    public const string StackNamespaceLabel = "com.docker.stack.namespace";

    /// <summary>Where the stack's service runs in Swarm: docker stack deploy names it STACK_SERVICE.</summary>
    public static string Service(string stack, string service) => $"{stack}_{service}";

    public static string Secret(string stack, string service, string relativePath, string fingerprint)
    {
        var suffix = "-" + fingerprint[..FingerprintLength];
        var stem = Clean($"{stack}_{service}_{relativePath.TrimStart('.')}");
        var room = MaxLength - suffix.Length;
        if (stem.Length > room)
        {
            var half = (room - 1) / 2;
            stem = stem[..half] + "." + stem[^(room - half - 1)..];
        }

        return stem.Trim('-', '_', '.') + suffix;
    }

    private static string Clean(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        }

        return builder.ToString();
    }
}
