using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Dso.Agent.Observability;

/// <summary>
/// Masks secrets in every log line and audit record (spec 5, G5): each value the agent has
/// resolved is masked exactly — and when it is a JSON document, each of its fields too, since a
/// reference may deliver one field alone (`#password`) — and text shaped like a credential
/// (PEM private keys, bearer tokens, Authorization and Cookie headers, AWS access keys, `sk-…` API
/// keys, GitHub tokens, and any `…password=…`, `…secret: …`, `"…token": "…"` and the like) by pattern. It keeps no copy of a value: only its length
/// and a keyed 64-bit hash, and it finds values by hashing every window of that length in the text.
/// </summary>
internal sealed partial class SecretRedactor
{
    public const string Mask = "[redacted]";

    /// <summary>Shorter values are not masked: they would mask ordinary words.</summary>
    public const int MinimumLength = 4;

    private readonly Lock _gate = new();
    private readonly Dictionary<int, HashSet<ulong>> _byLength = [];
    private readonly ulong _seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    /// <summary>JSON documents are searched this deep for fields to remember.</summary>
    private const int MaxJsonDepth = 16;

    public void Remember(ReadOnlySpan<byte> value)
    {
        RememberExactly(value);
        RememberLines(value);
        if (value.Length > 1 && value[0] is (byte)'{' or (byte)'[')
        {
            RememberFields(value);
        }
    }

    /// <summary>Each line of a value that has several (a PEM key): logs arrive a line at a time, a plugin's stderr too.</summary>
    private void RememberLines(ReadOnlySpan<byte> value)
    {
        if (value.IndexOf((byte)'\n') < 0)
        {
            return;
        }

        foreach (var range in value.Split((byte)'\n'))
        {
            RememberExactly(value[range].TrimEnd((byte)'\r'));
        }
    }

    /// <summary>
    /// Each string field of a JSON value, as a `#KEY` reference delivers it, and each nested object
    /// or array as its JSON text. Numbers, booleans and null are left out: masking `true` or `5432`
    /// everywhere would let whoever writes a secret blank out ordinary log text.
    /// </summary>
    private void RememberFields(ReadOnlySpan<byte> value)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(value.ToArray(), new System.Text.Json.JsonDocumentOptions { MaxDepth = MaxJsonDepth });
            Walk(document.RootElement);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON after all: the value itself is remembered, which is all there is.
        }

        void Walk(System.Text.Json.JsonElement element)
        {
            switch (element.ValueKind)
            {
                case System.Text.Json.JsonValueKind.Object:
                    foreach (var field in element.EnumerateObject())
                    {
                        if (field.Value.ValueKind is System.Text.Json.JsonValueKind.Object or System.Text.Json.JsonValueKind.Array)
                        {
                            RememberExactly(Encoding.UTF8.GetBytes(field.Value.GetRawText()));
                        }

                        Walk(field.Value);
                    }

                    break;
                case System.Text.Json.JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
                case System.Text.Json.JsonValueKind.String:
                    var text = Encoding.UTF8.GetBytes(element.GetString()!);
                    RememberExactly(text);
                    RememberLines(text);
                    break;
            }
        }
    }

    private void RememberExactly(ReadOnlySpan<byte> value)
    {
        if (value.Length < MinimumLength)
        {
            return;
        }

        var hash = Hash(value);
        lock (_gate)
        {
            if (!_byLength.TryGetValue(value.Length, out var set))
            {
                _byLength[value.Length] = set = [];
            }

            set.Add(hash);
        }
    }

    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        var masked = new bool[bytes.Length];
        var any = false;
        lock (_gate)
        {
            foreach (var (length, hashes) in _byLength)
            {
                for (var start = 0; start + length <= bytes.Length; start++)
                {
                    if (hashes.Contains(Hash(bytes.AsSpan(start, length))))
                    {
                        Array.Fill(masked, true, start, length);
                        any = true;
                    }
                }
            }
        }

        var result = any ? Rebuild(bytes, masked) : text;
        return CredentialPattern().Replace(result, m => m.Groups["keep"].Value + Mask);
    }

    private static string Rebuild(byte[] bytes, bool[] masked)
    {
        var output = new List<byte>(bytes.Length);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (!masked[i])
            {
                output.Add(bytes[i]);
                continue;
            }

            output.AddRange(Encoding.UTF8.GetBytes(Mask));
            while (i + 1 < bytes.Length && masked[i + 1])
            {
                i++;
            }
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }

    private ulong Hash(ReadOnlySpan<byte> data)
    {
        // FNV-1a, keyed with a per-process seed so hashes cannot be precomputed.
        var hash = 14695981039346656037UL ^ _seed;
        foreach (var b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>Names that say a credential follows: `password`, `db_password`, `aws_secret_access_key`, `access_token`, `DSO_PASSPHRASE`…</summary>
    private const string CredentialName = """[A-Za-z0-9_.-]*(?i:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|secretstring)""";

    /// <summary>The same as a JSON key, but a bare "secret" (DSO's own JSON uses it for a secret's name, never its value).</summary>
    private const string CredentialJsonKey = """(?:[A-Za-z0-9_.-]*(?i:password|passwd|passphrase|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|secretstring)|[A-Za-z0-9.-]*_(?i:secret))""";

    [GeneratedRegex(
        """(?<keep>)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)"""
        + """|(?<keep>(?i:authorization|proxy-authorization)\s*[:=]\s*(?:(?i:bearer|basic|token|digest|negotiate)\s+)?)[A-Za-z0-9\-._~+/=]{4,}"""
        + """|(?<keep>(?i:cookie|set-cookie)\s*:\s*)[^\r\n]{4,}"""
        + """|(?<keep>(?i:bearer)\s+)[A-Za-z0-9\-._~+/]{8,}=*"""
        + """|(?<keep>)\bAKIA[0-9A-Z]{16}\b"""
        + """|(?<keep>)\bsk-[A-Za-z0-9_-]{16,}"""
        + """|(?<keep>)\bgh[pousr]_[A-Za-z0-9]{30,}"""
        + "|(?<keep>\"" + CredentialJsonKey + "\"\\s*:\\s*\")(?:[^\"\\\\]|\\\\.){4,}(?=\")"
        + """|(?<keep>\b""" + CredentialName + """\s*[=:]\s*)[^\s,;"']{4,}""")]
    private static partial Regex CredentialPattern();
}
