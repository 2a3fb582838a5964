using System.Security.Cryptography;
using System.Text;
using Dso.Native;

namespace Dso.Vault;

/// <summary>
/// A 256-bit vault key in a file (base64 text, owner-only) or in DSO_MASTER_KEY (base64 or hex).
/// </summary>
public static class KeyFile
{
    /// <summary>Writes a new random key to <paramref name="path"/> (mode 0600, directory 0700); never overwrites.</summary>
    public static VaultCredential Generate(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            UnixFiles.CreateDirectory(directory, UnixFiles.OwnerOnlyDirectory);
        }

        var key = RandomNumberGenerator.GetBytes(VaultFormat.KeySize);
        try
        {
            var text = Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n");
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFiles.OwnerReadWrite };
            using (var stream = new FileStream(path, options))
            {
                stream.Write(text);
                stream.Flush(flushToDisk: true);
            }

            UnixFiles.FsyncDirectory(directory);
            return VaultCredential.FromKey(key);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new DsoException($"key file {path} already exists; it was not overwritten", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public static VaultCredential Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new DsoException($"key file {path} does not exist; set DSO_KEY_FILE to your vault's key file, or DSO_MASTER_KEY to the key itself");
        }

        VaultFile.RequireOwnerOnly(path, "key");
        var bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes, $"key file {path}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Reads a key given as 32 raw bytes, 64 hex digits or base64 text.</summary>
    public static VaultCredential Parse(ReadOnlySpan<byte> content, string source)
    {
        if (content.Length == VaultFormat.KeySize)
        {
            return VaultCredential.FromKey(content);
        }

        var text = Encoding.ASCII.GetString(content).Trim();
        byte[]? key = null;
        try
        {
            if (text.Length == 2 * VaultFormat.KeySize && text.All(char.IsAsciiHexDigit))
            {
                key = Convert.FromHexString(text);
            }
            else
            {
                var buffer = new byte[VaultFormat.KeySize + 3];
                if (Convert.TryFromBase64String(text, buffer, out var written) && written == VaultFormat.KeySize)
                {
                    key = buffer[..written];
                }

                CryptographicOperations.ZeroMemory(buffer);
            }

            return key is null
                ? throw new DsoException($"{source} does not hold a 256-bit key (expected 44 base64 characters or 64 hex digits)")
                : VaultCredential.FromKey(key);
        }
        finally
        {
            if (key is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }
}
