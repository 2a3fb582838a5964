using System.Security.Cryptography;

namespace Dso.Providers.Plugins;

/// <summary>HTTP helpers the built-in backends share.</summary>
internal static class BackendHttp
{
    /// <summary>A provider's answer body, or null when it is over <paramref name="limit"/> bytes (what was read is zeroed either way).</summary>
    public static async Task<byte[]?> ReadCappedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            return null;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (body.Length + read > limit)
                {
                    return null;
                }

                body.Write(buffer, 0, read);
            }

            return body.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body.GetBuffer());
            CryptographicOperations.ZeroMemory(buffer);
        }
    }
}
