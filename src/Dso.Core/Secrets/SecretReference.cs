using System.Globalization;
using System.Text;

namespace Dso.Secrets;

/// <summary>
/// A reference to a secret (spec 3.3): `dso://[PROVIDER:]PATH[#JSONKEY][@VERSION]` or
/// `dsofile://…[?mode=0440&amp;uid=999&amp;gid=999&amp;name=db.pem]`. Parsing fails with one line that quotes
/// the reference and names the problem; references hold names, never values.
/// </summary>
public sealed record SecretReference(ReferenceKind Kind, string? Provider, string Path, string? JsonKey, string? Version, SecretFileOptions File)
{
    public const string EnvScheme = "dso://";
    public const string FileScheme = "dsofile://";

    /// <summary>Files DSO writes beside a service's secrets (`.dso-manifest`, `.dso-env/`) start with this; no secret file may.</summary>
    public const string ReservedFilePrefix = ".dso";

    public static bool IsReservedFileName(string name) => name.StartsWith(ReservedFilePrefix, StringComparison.Ordinal);

    /// <summary>
    /// The first of one service's file references that would be the same file as an earlier one
    /// but for another secret or with other options (one of them would be silently lost): its index
    /// and the problem; null when every file name is used once or for the same reference.
    /// </summary>
    public static (int Index, string Problem)? FileNameClash(IReadOnlyList<(string Variable, SecretReference Reference)> references)
    {
        var byName = new Dictionary<string, (string Variable, SecretReference Reference)>(StringComparer.Ordinal);
        for (var i = 0; i < references.Count; i++)
        {
            var (variable, reference) = references[i];
            if (reference.Kind != ReferenceKind.File)
            {
                continue;
            }

            if (byName.TryGetValue(reference.FileName, out var other) && other.Reference != reference)
            {
                return (i, $"{other.Variable} ({other.Reference}) and {variable} ({reference}) would both be the file '{reference.FileName}'; add ?name=OTHER to one of them");
            }

            byName[reference.FileName] = (variable, reference);
        }

        return null;
    }

    /// <summary>True when <paramref name="text"/> starts with a DSO scheme (and so must parse).</summary>
    public static bool IsReference(string? text) =>
        text is not null && (text.StartsWith(EnvScheme, StringComparison.Ordinal) || text.StartsWith(FileScheme, StringComparison.Ordinal));

    public static SecretReference Parse(string text) =>
        TryParse(text, out var reference, out var problem)
            ? reference
            : throw new DsoException($"invalid reference '{Printable(text)}': {Printable(problem, 400)}");

    public static bool TryParse(string text, out SecretReference reference, out string problem)
    {
        reference = null!;
        ReferenceKind kind;
        string body;
        if (text.StartsWith(EnvScheme, StringComparison.Ordinal))
        {
            kind = ReferenceKind.Env;
            body = text[EnvScheme.Length..];
        }
        else if (text.StartsWith(FileScheme, StringComparison.Ordinal))
        {
            kind = ReferenceKind.File;
            body = text[FileScheme.Length..];
        }
        else
        {
            problem = "it must start with dso:// or dsofile://";
            return false;
        }

        var file = SecretFileOptions.None;
        var question = body.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            if (kind == ReferenceKind.Env)
            {
                problem = "file options (?mode=…) apply to dsofile:// references only";
                return false;
            }

            if (!TryParseQuery(body[(question + 1)..], out file, out problem))
            {
                return false;
            }

            body = body[..question];
        }

        string? version = null;
        var at = body.LastIndexOf('@');
        if (at >= 0)
        {
            version = body[(at + 1)..];
            body = body[..at];
            if (!IsToken(version, allowDots: true))
            {
                problem = $"the version '{version}' after @ must be letters, digits, '.', '_' or '-'";
                return false;
            }
        }

        string? jsonKey = null;
        var hash = body.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            jsonKey = body[(hash + 1)..];
            body = body[..hash];
            if (jsonKey.Length == 0 || jsonKey.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '#' or '?' or '@'))
            {
                problem = $"the JSON key '{jsonKey}' after # must be a non-empty field name";
                return false;
            }
        }

        string? provider = null;
        var colon = body.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            provider = body[..colon];
            body = body[(colon + 1)..];
            if (!IsToken(provider, allowDots: false) || provider.Any(char.IsUpper))
            {
                problem = $"the provider '{provider}' before ':' must be lowercase letters, digits, '_' or '-' (a key of providers: in dso.yaml)";
                return false;
            }
        }

        if (PathProblem(body) is { } pathProblem)
        {
            problem = pathProblem;
            return false;
        }

        reference = new SecretReference(kind, provider, body, jsonKey, version, file);
        if (kind == ReferenceKind.File && IsReservedFileName(reference.FileName))
        {
            problem = $"the file name '{reference.FileName}' is reserved for DSO's own files (names starting with {ReservedFilePrefix}); give the file another name with ?name=NAME";
            reference = null!;
            return false;
        }

        problem = string.Empty;
        return true;
    }

    /// <summary>The canonical text of the reference; parsing it gives an equal reference.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Kind == ReferenceKind.Env ? EnvScheme : FileScheme);
        if (Provider is not null)
        {
            text.Append(Provider).Append(':');
        }

        text.Append(Path);
        if (JsonKey is not null)
        {
            text.Append('#').Append(JsonKey);
        }

        if (Version is not null)
        {
            text.Append('@').Append(Version);
        }

        var query = new List<string>();
        if (File.Mode is { } mode)
        {
            query.Add("mode=0" + Convert.ToString(mode, 8));
        }

        if (File.Uid is { } uid)
        {
            query.Add("uid=" + uid.ToString(CultureInfo.InvariantCulture));
        }

        if (File.Gid is { } gid)
        {
            query.Add("gid=" + gid.ToString(CultureInfo.InvariantCulture));
        }

        if (File.Name is { } name)
        {
            query.Add("name=" + name);
        }

        if (query.Count > 0)
        {
            text.Append('?').Append(string.Join('&', query));
        }

        return text.ToString();
    }

    /// <summary>The secret this reference reads, without delivery details: provider, path and version.</summary>
    public string SecretKey => $"{Provider}:{Path}@{Version}";

    /// <summary>The file name a `dsofile://` reference gets inside the secrets directory.</summary>
    public string FileName => File.Name ?? Path[(Path.LastIndexOf('/') + 1)..];

    private static string? PathProblem(string path)
    {
        if (path.Length == 0)
        {
            return "the secret path is empty";
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "the path has an empty segment (a leading, trailing or doubled '/')";
            }

            if (segment is "." or "..")
            {
                return $"the path has a '{segment}' segment";
            }

            foreach (var c in segment)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or '='))
                {
                    return $"the path has the character '{Printable(c.ToString())}'; paths use letters, digits, '.', '_', '-', '+', '=' and '/'";
                }
            }
        }

        return null;
    }

    private static bool TryParseQuery(string query, out SecretFileOptions options, out string problem)
    {
        options = SecretFileOptions.None;
        problem = string.Empty;
        if (query.Length == 0)
        {
            problem = "the query after '?' is empty";
            return false;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? string.Empty : pair[(equals + 1)..];
            if (!seen.Add(key))
            {
                problem = $"the option '{key}' is given twice";
                return false;
            }

            switch (key)
            {
                case "mode":
                    if (value.Length is < 3 or > 4 || !value.All(c => c is >= '0' and <= '7') || Convert.ToInt32(value, 8) > Convert.ToInt32("777", 8))
                    {
                        problem = $"mode '{value}' must be octal permissions such as 0400 or 0440";
                        return false;
                    }

                    var mode = Convert.ToInt32(value, 8);
                    if ((mode & Convert.ToInt32("0222", 8)) != 0)
                    {
                        problem = $"mode {value} makes the secret writable; secrets are read-only (use 0400 or 0440)";
                        return false;
                    }

                    options = options with { Mode = mode };
                    break;
                case "uid" or "gid":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 0)
                    {
                        problem = $"{key} '{value}' must be a number (a numeric user or group id)";
                        return false;
                    }

                    options = key == "uid" ? options with { Uid = id } : options with { Gid = id };
                    break;
                case "name":
                    if (!IsToken(value, allowDots: true) || value is "." or "..")
                    {
                        problem = $"name '{value}' must be a plain file name (letters, digits, '.', '_', '-')";
                        return false;
                    }

                    options = options with { Name = value };
                    break;
                default:
                    problem = $"unknown option '{key}' (known: mode, uid, gid, name)";
                    return false;
            }
        }

        return true;
    }

    private static bool IsToken(string text, bool allowDots) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' || (allowDots && c == '.'));

    /// <summary>Text fit for a one-line error: control characters (newlines too) escaped, cut at <paramref name="limit"/> characters.</summary>
    internal static string Printable(string text, int limit = 120) =>
        string.Concat(text.Take(limit).Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' ? $"\\x{(int)c:x2}" : c.ToString())) + (text.Length > limit ? "…" : string.Empty);
}
