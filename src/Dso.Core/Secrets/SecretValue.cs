using System.Security.Cryptography;

namespace Dso.Secrets;

/// <summary>
/// A secret's bytes. Formatting and logging see "[redacted]"; the bytes are reachable only through
/// <see cref="Reveal"/>, so every place that touches a value can be found by searching for it. The
/// buffer is pinned (the GC never copies it) and zeroed on dispose.
/// </summary>
public sealed class SecretValue : IDisposable, IEquatable<SecretValue>
{
    public const string Redacted = "[redacted]";

    private readonly byte[] _bytes;
    private bool _disposed;

    private SecretValue(byte[] pinned)
    {
        _bytes = pinned;
    }

    public int Length => _bytes.Length;

    public static SecretValue FromBytes(ReadOnlySpan<byte> bytes)
    {
        var pinned = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(pinned);
        return new SecretValue(pinned);
    }

    public static SecretValue FromString(string value) => FromBytes(System.Text.Encoding.UTF8.GetBytes(value));

    /// <summary>The value's bytes. The only way to read them; keep the span short-lived.</summary>
    public ReadOnlySpan<byte> Reveal()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _bytes;
    }

    /// <summary>The value decoded as UTF-8 (for environment variables and JSON fields).</summary>
    public string RevealString() => System.Text.Encoding.UTF8.GetString(Reveal());

    public SecretValue Copy() => FromBytes(Reveal());

    /// <summary>
    /// Asks the kernel to keep the value's pages out of swap (mlock). Returns null on success, else
    /// why not (typically RLIMIT_MEMLOCK for a non-root process).
    /// </summary>
    public unsafe string? TryLockInMemory()
    {
        if (_bytes.Length == 0)
        {
            return null;
        }

        fixed (byte* address = _bytes)
        {
            return Native.Libc.Mlock(address, (nuint)_bytes.Length) == 0
                ? null
                : System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
    }

    public bool Equals(SecretValue? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(Reveal(), other.Reveal());

    public override bool Equals(object? obj) => obj is SecretValue other && Equals(other);

    public override int GetHashCode() => _bytes.Length;

    public override string ToString() => Redacted;

    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_bytes);
            _disposed = true;
        }
    }
}
