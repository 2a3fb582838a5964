using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Dso.Agent.Observability;

/// <summary>
/// Masks secrets in every log line and audit record (spec 5, G5): each value the agent has
/// resolved is masked exactly, and text shaped like a credential (bearer tokens, AWS access keys,
/// `password=…`) by pattern. It keeps no copy of a value: only its length and a keyed 64-bit hash,
/// and it finds values by hashing every window of that length in the text.
/// </summary>
internal sealed partial class SecretRedactor
{
    public const string Mask = "[redacted]";

    /// <summary>Shorter values are not masked: they would mask ordinary words.</summary>
    public const int MinimumLength = 4;

    private readonly Lock _gate = new();
    private readonly Dictionary<int, HashSet<ulong>> _byLength = [];
    private readonly ulong _seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    public void Remember(ReadOnlySpan<byte> value)
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

    [GeneratedRegex(@"(?<keep>(?i:bearer)\s+)[A-Za-z0-9\-._~+/]{8,}=*|(?<keep>)\bAKIA[0-9A-Z]{16}\b|(?<keep>(?i:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s,;""']{4,}")]
    private static partial Regex CredentialPattern();
}
