using System.Security.Cryptography;

namespace Dso.Plugins;

/// <summary>A line longer than the protocol allows.</summary>
public sealed class MessageTooLargeException(int limit)
    : IOException($"a message is longer than {limit} bytes (the protocol's limit)")
{
    public int Limit { get; } = limit;
}

/// <summary>
/// Reads newline-terminated messages from a stream, refusing any longer than a limit before it is
/// all in memory. Returned lines are copies the caller owns (and zeroes when they held values);
/// the internal buffer is zeroed as it is consumed and on dispose.
/// </summary>
public sealed class LineReader(Stream stream, int maxBytes = PluginProtocol.MaxMessageBytes) : IDisposable
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _count;

    /// <summary>The next line without its '\n' (and a trailing '\r'); null at the end of the stream.</summary>
    public async ValueTask<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', scanned, _count - scanned);
            if (newline >= 0)
            {
                var length = newline > 0 && _buffer[newline - 1] == '\r' ? newline - 1 : newline;
                if (length > maxBytes)
                {
                    throw new MessageTooLargeException(maxBytes);
                }

                var line = _buffer.AsSpan(0, length).ToArray();
                var rest = _count - newline - 1;
                _buffer.AsSpan(newline + 1, rest).CopyTo(_buffer);
                CryptographicOperations.ZeroMemory(_buffer.AsSpan(rest, _count - rest));
                _count = rest;
                return line;
            }

            if (_count > maxBytes + 1)
            {
                throw new MessageTooLargeException(maxBytes);
            }

            scanned = _count;
            if (_count == _buffer.Length)
            {
                var larger = new byte[Math.Min(_buffer.Length * 2, maxBytes + 2)];
                _buffer.AsSpan(0, _count).CopyTo(larger);
                CryptographicOperations.ZeroMemory(_buffer);
                _buffer = larger;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_count), cancellationToken);
            if (read == 0)
            {
                if (_count == 0)
                {
                    return null;
                }

                throw new EndOfStreamException("the stream ended in the middle of a message");
            }

            _count += read;
        }
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_buffer);
        _count = 0;
    }
}
