using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dso.Plugins;

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

    /// <summary>
    /// The HTTP handler of a built-in backend: pooled connections renewed every 5 minutes (DNS
    /// changes are seen), and, when <paramref name="caFile"/> is given, TLS that trusts only the
    /// roots in that PEM file (the system store is not consulted).
    /// </summary>
    public static SocketsHttpHandler Handler(string? caFile)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (caFile is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = TrustOnly(LoadCa(caFile));
        }

        return handler;
    }

    private static X509Certificate2Collection LoadCa(string file)
    {
        try
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(file);
            return roots.Count > 0 ? roots : throw new BackendException(PluginErrorCodes.Denied, $"options.ca_file {file} holds no certificate");
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new BackendException(PluginErrorCodes.Denied, $"cannot read options.ca_file {file}: {e.Message}");
        }
    }

    private static RemoteCertificateValidationCallback TrustOnly(X509Certificate2Collection roots) => (_, certificate, _, errors) =>
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    };
}
