using System.Security.Cryptography;
using System.Text;
using Dso.Injection.References;
using Dso.Native;

namespace Dso.Injection.Planning;

/// <summary>
/// The host-local key under which DSO fingerprints the values a container consumes
/// (`dso.fingerprint` label): an HMAC, so the label changes when a value does but reveals nothing.
/// Kept in DSO_HOME/fingerprint.key (0600), made on first use.
/// </summary>
internal sealed class FingerprintKey(byte[] key)
{
    public const string FileName = "fingerprint.key";

    public static FingerprintKey LoadOrCreate(string dsoHome)
    {
        var path = Path.Combine(dsoHome, FileName);
        if (!File.Exists(path))
        {
            if (!Directory.Exists(dsoHome))
            {
                UnixFiles.CreateDirectory(dsoHome, UnixFiles.OwnerOnlyDirectory);
            }

            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFiles.OwnerReadWrite };
                using var stream = new FileStream(path, options);
                stream.Write(RandomNumberGenerator.GetBytes(32));
                stream.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process made it first; use theirs.
            }
        }

        var bytes = File.ReadAllBytes(path);
        return bytes.Length == 32 ? new FingerprintKey(bytes) : throw new DsoException($"{path} is not a 32-byte key; remove it and run again");
    }

    /// <summary>HMAC-SHA256 over each consumed (variable, reference, value), in variable order; 32 hex digits.</summary>
    public string Fingerprint(IEnumerable<ServiceReference> references, ResolvedValues values)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        foreach (var reference in references.OrderBy(r => r.Variable, StringComparer.Ordinal))
        {
            hmac.AppendData(Encoding.UTF8.GetBytes($"{reference.Variable}\0{reference.Reference}\0"));
            hmac.AppendData(values[reference.Reference].Reveal());
            hmac.AppendData([0]);
        }

        return Convert.ToHexStringLower(hmac.GetHashAndReset())[..32];
    }

    /// <summary>HMAC-SHA256 of one labelled value (a version stand-in for providers without versions); 32 hex digits.</summary>
    public string Fingerprint(string label, ReadOnlySpan<byte> value)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.UTF8.GetBytes(label + "\0"));
        hmac.AppendData(value);
        return Convert.ToHexStringLower(hmac.GetHashAndReset())[..32];
    }
}
