using System.Text.Json;
using Dso.Plugins;

namespace Dso.Providers.Plugins;

/// <summary>
/// A provider that lives in a plugin process (spec 7). The process starts on first use and is
/// initialized with the provider's configuration; a process that dies, hangs or breaks the
/// protocol is replaced on a later call, after a backoff of 1, 2, 4 … 60 s between failed starts
/// (the first restart is immediate). Every failure becomes a transient answer naming the
/// provider; nothing a plugin does can throw into the caller.
/// </summary>
internal sealed class PluginProvider : ISecretProvider, IVersionedProvider, IAsyncDisposable, IDisposable
{
    private readonly string _type;
    private readonly PluginLaunch _launch;
    private readonly byte[] _config;
    private readonly TimeSpan _timeout;
    private readonly PluginHost _host;
    private readonly IReadOnlyList<string> _credentials;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PluginProcess? _process;
    private int _failedStarts;
    private DateTimeOffset _notBefore;
    private string? _lastFailure;

    /// <param name="name">The provider's name in dso.yaml.</param>
    /// <param name="type">Its type (told to the plugin).</param>
    /// <param name="launch">How to start the plugin.</param>
    /// <param name="config">The provider's configuration as a JSON object (sent in initialize).</param>
    /// <param name="timeout">The deadline of each call.</param>
    /// <param name="host">Log, clock and environment.</param>
    /// <param name="credentials">Values to cut from the plugin's stderr before it is logged (its configured credentials).</param>
    public PluginProvider(string name, string type, PluginLaunch launch, byte[] config, TimeSpan timeout, PluginHost host, IReadOnlyList<string> credentials)
    {
        Name = name;
        _type = type;
        _launch = launch;
        _config = config;
        _timeout = timeout;
        _host = host;
        _credentials = [.. credentials.Where(c => c.Length >= 4).OrderByDescending(c => c.Length)];
    }

    public string Name { get; }

    /// <summary>How many processes have been started (the chaos tests count restarts).</summary>
    public int Starts { get; private set; }

    /// <summary>The pid of the running plugin, if one runs.</summary>
    public int? Pid => _process is { IsAlive: true } p ? p.Pid : null;

    /// <summary>What the plugin said it can do; null until it has been initialized.</summary>
    public PluginCapabilities? Capabilities { get; private set; }

    public bool CanCheckVersions => Capabilities?.Versions ?? true;

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var answers = new List<ResolvedSecret>(requests.Count);
        try
        {
            foreach (var batch in await BatchesAsync(requests, cancellationToken))
            {
                using var message = await CallAsync(PluginProtocol.Resolve, w => PluginAnswers.WriteRequests(w, batch), cancellationToken);
                answers.AddRange(Read(() => PluginAnswers.ReadResolved(message.Result!.Value, batch.Count)));
            }

            return answers;
        }
        catch (PluginException e)
        {
            answers.ForEach(a => a.Value?.Dispose());
            return [.. requests.Select(_ => ResolvedSecret.Failed(e.Message))];
        }
    }

    public async Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var versions = new List<SecretVersion>(requests.Count);
        try
        {
            foreach (var batch in await BatchesAsync(requests, cancellationToken))
            {
                if (Capabilities is { Versions: false })
                {
                    return [.. requests.Select(_ => new SecretVersion(null, null, $"plugin {Name} does not report versions", Transient: true))];
                }

                using var message = await CallAsync(PluginProtocol.Versions, w => PluginAnswers.WriteRequests(w, batch), cancellationToken);
                versions.AddRange(Read(() => PluginAnswers.ReadVersions(message.Result!.Value, batch.Count)));
            }

            return versions;
        }
        catch (PluginException e)
        {
            return [.. requests.Select(_ => new SecretVersion(null, null, e.Message, Transient: true))];
        }
    }

    /// <summary>The plugin's own health answer (ok and a message), or why there is none.</summary>
    public async Task<(bool Ok, string Message)> HealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var message = await CallAsync(PluginProtocol.Health, null, cancellationToken);
            var result = message.Result!.Value;
            var ok = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("ok", out var o) && o.ValueKind == JsonValueKind.True;
            var text = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : ok ? "ok" : "not healthy";
            return (ok, Scrub(text));
        }
        catch (PluginException e)
        {
            return (false, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await process.DisposeAsync();
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task<List<List<SecretRequest>>> BatchesAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        await EnsureStartedAsync(cancellationToken);
        var size = Math.Max(1, Capabilities?.MaxBatch ?? 100);
        return [.. requests.Chunk(size).Select(c => c.ToList())];
    }

    private T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (FormatException e)
        {
            throw new PluginException($"plugin {Name} sent a malformed answer: {e.Message}");
        }
    }

    private async Task<RpcMessage> CallAsync(string method, Action<Utf8JsonWriter>? parameters, CancellationToken cancellationToken)
    {
        var process = await EnsureStartedAsync(cancellationToken);
        try
        {
            var answer = await process.CallAsync(method, parameters, _timeout, cancellationToken);
            if (answer.Result is null)
            {
                answer.Dispose();
                throw new PluginException($"plugin {Name} answered {method} without a result");
            }

            return answer;
        }
        catch (PluginException e)
        {
            throw new PluginException(Scrub(e.Message), e.RpcCode);
        }
    }

    private async Task<PluginProcess> EnsureStartedAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_process is { IsAlive: true } running)
            {
                return running;
            }

            if (_process is { } dead)
            {
                _lastFailure = dead.Death;
                _process = null;
                await dead.DisposeAsync();
            }

            var now = _host.Time.GetUtcNow();
            if (now < _notBefore)
            {
                throw new PluginException($"plugin {Name} is waiting {(_notBefore - now).TotalSeconds:0} s before its next start (last failure: {_lastFailure})", deferred: true);
            }

            Starts++;
            var process = PluginProcess.Start(_launch, Name, line => _host.Log?.Invoke(Name, Scrub(line)));
            try
            {
                using var answer = await process.CallAsync(PluginProtocol.Initialize, WriteInitialize, _timeout, cancellationToken);
                Capabilities = PluginCapabilities.Read(answer.Result) ?? throw new PluginException($"plugin {Name} answered initialize without protocolVersion {PluginProtocol.Version}");
                _process = process;
                _failedStarts = 0;
                return process;
            }
            catch (Exception e) when (e is PluginException)
            {
                await process.DisposeAsync();
                _failedStarts++;
                _lastFailure = Scrub(e.Message);
                _notBefore = _host.Time.GetUtcNow() + TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, _failedStarts - 1)));
                throw new PluginException(_lastFailure, (e as PluginException)?.RpcCode);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void WriteInitialize(Utf8JsonWriter w)
    {
        w.WriteNumber("protocolVersion", PluginProtocol.Version);
        w.WriteString("provider", Name);
        w.WriteString("type", _type);
        w.WritePropertyName("config");
        using var config = JsonDocument.Parse(_config);
        config.RootElement.WriteTo(w);
    }

    private string Scrub(string text)
    {
        foreach (var credential in _credentials)
        {
            text = text.Replace(credential, Secrets.SecretValue.Redacted, StringComparison.Ordinal);
        }

        return text;
    }
}

/// <summary>What a plugin declared in its initialize answer.</summary>
internal sealed record PluginCapabilities(bool Versions, int MaxBatch, string? Plugin)
{
    public static PluginCapabilities? Read(JsonElement? result)
    {
        if (result is not { ValueKind: JsonValueKind.Object } r || !r.TryGetProperty("protocolVersion", out var v) || !v.TryGetInt32(out var version) || version != PluginProtocol.Version)
        {
            return null;
        }

        var versions = false;
        var maxBatch = 100;
        if (r.TryGetProperty("capabilities", out var c) && c.ValueKind == JsonValueKind.Object)
        {
            versions = c.TryGetProperty("versions", out var x) && x.ValueKind == JsonValueKind.True;
            if (c.TryGetProperty("maxBatch", out var b) && b.TryGetInt32(out var n) && n > 0)
            {
                maxBatch = n;
            }
        }

        return new PluginCapabilities(versions, maxBatch, r.TryGetProperty("plugin", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null);
    }
}
