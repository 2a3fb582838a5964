using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dso.Fakes;

/// <summary>What the next matching requests get instead of a real answer.</summary>
public enum FaultKind
{
    None,
    Status,
    Slow,
    Oversized,
    Garbage,
}

/// <summary>A fault for the next <see cref="Count"/> requests: an HTTP status (with the provider's error shape), a delay, a huge or broken body.</summary>
public sealed record Fault(FaultKind Kind, int Status = 500, TimeSpan Delay = default, int Count = int.MaxValue);

/// <summary>
/// A Kestrel server on 127.0.0.1 with a random port, plain HTTP or HTTPS with a fresh self-signed
/// certificate (its PEM in <see cref="CaFile"/> for CA pinning). Counts requests and applies faults.
/// </summary>
public abstract class FakeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private Fault? _fault;
    private int _requests;

    protected FakeServer(bool https, string? directory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        X509Certificate2? certificate = null;
        if (https)
        {
            certificate = SelfSigned();
            CaFile = Path.Combine(directory ?? Path.GetTempPath(), $"fake-ca-{Guid.NewGuid():N}.pem");
            File.WriteAllText(CaFile, certificate.ExportCertificatePem());
        }

        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref _requests);
            Fault? fault;
            lock (_gate)
            {
                fault = _fault;
                if (fault is { Count: > 0 })
                {
                    _fault = fault.Count == 1 ? null : fault with { Count = fault.Count - 1 };
                }
            }

            switch (fault?.Kind)
            {
                case FaultKind.Status:
                    await WriteErrorAsync(context, fault.Status);
                    return;
                case FaultKind.Slow:
                    await Task.Delay(fault.Delay, context.RequestAborted);
                    break;
                case FaultKind.Oversized:
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync("{\"data\":\"" + new string('x', 4 * 1024 * 1024) + "\"}");
                    return;
                case FaultKind.Garbage:
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync("<html>not json</html>");
                    return;
            }

            await next(context);
        });
        Map(_app);
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>PEM of the server's certificate when it runs HTTPS.</summary>
    public string? CaFile { get; }

    public int Requests => Volatile.Read(ref _requests);

    public void Inject(Fault? fault)
    {
        lock (_gate)
        {
            _fault = fault;
        }
    }

    public async Task StartAsync()
    {
        await _app.StartAsync();
        Address = new Uri(_app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (CaFile is not null)
        {
            File.Delete(CaFile);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>The routes of the provider's API.</summary>
    protected abstract void Map(WebApplication app);

    /// <summary>The provider's own error shape for a status.</summary>
    protected abstract Task WriteErrorAsync(HttpContext context, int status);

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
