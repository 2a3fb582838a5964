using System.Text.Json;
using Dso.Plugins;

namespace Dso.Providers.Plugins;

/// <summary>
/// A provider that lives in a plugin process (spec 7). The process starts on first use and is
/// initialized with the provider's configuration; a process that dies, hangs or breaks the
/// protocol is replaced on a later call, after a backoff of 1, 2, 4 … 60 s between failed starts
/// (the first restart is immediate). Every failure becomes a transient answer naming the
/// provider; nothing a plugin does can throw into the caller. A plugin written for the original
/// project's protocol (<see cref="ResolveSecretProtocol"/>) is spoken to in its own terms: one
/// `ResolveSecret` call per path, no versions (the agent compares values instead).
/// </summary>
internal sealed class PluginProvider : ISecretProvider, IVersionedProvider, IAsyncDisposable, IDisposable
{
    private readonly string _type;
    private readonly PluginLaunch _launch;
    private readonly byte[] _config;
    private readonly TimeSpan _timeout;
    private readonly PluginHost _host;
    private readonly IReadOnlyList<string> _credentials;
    private readonly string? _protocol;
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
    /// <param name="protocol">`dso`, <see cref="ResolveSecretProtocol"/>, or null: `dso` unless the plugin does not know initialize.</param>
    public PluginProvider(string name, string type, PluginLaunch launch, byte[] config, TimeSpan timeout, PluginHost host, IReadOnlyList<string> credentials, string? protocol = null)
    {
        _protocol = protocol;
        Name = name;
        _type = type;
        _launch = launch;
        _config = config;
        _timeout = timeout;
        _host = host;
        _credentials = [.. credentials.Where(c => c.Length >= 4).OrderByDescending(c => c.Length)];
    }

    /// <summary>The original project's plugin protocol: `ResolveSecret` with `path` and `config`, answered with `value`.</summary>
    public const string ResolveSecretProtocol = "resolve-secret";

    public string Name { get; }

    /// <summary>True when the plugin speaks <see cref="ResolveSecretProtocol"/> (configured, or found at its start).</summary>
    public bool SpeaksResolveSecret => Capabilities?.Plugin == ResolveSecretProtocol;

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
            var batches = await BatchesAsync(requests, cancellationToken);
            if (SpeaksResolveSecret)
            {
                return await ResolveOneByOneAsync(requests, cancellationToken);
            }

            foreach (var batch in batches)
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

    /// <summary>The original protocol: one ResolveSecret call per path; a path the plugin answers with an error fails alone.</summary>
    private async Task<IReadOnlyList<ResolvedSecret>> ResolveOneByOneAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var answers = new List<ResolvedSecret>(requests.Count);
        using var config = JsonDocument.Parse(_config);
        foreach (var request in requests)
        {
            if (request.Version is not null)
            {
                answers.Add(ResolvedSecret.Missing($"plugin {Name} speaks the original ResolveSecret protocol, which has no versions: {request.Path}@{request.Version} cannot be read"));
                continue;
            }

            try
            {
                using var message = await CallAsync("ResolveSecret", w =>
                {
                    w.WriteString("path", request.Path);
                    w.WritePropertyName("config");
                    config.RootElement.WriteTo(w);
                }, cancellationToken);
                var result = message.Result!.Value;
                answers.Add(result.ValueKind == JsonValueKind.Object && result.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String
                    ? ResolvedSecret.Found(PluginAnswers.ValueOf(value))
                    : ResolvedSecret.Failed($"plugin {Name} sent a malformed answer: ResolveSecret's result has no string value"));
            }
            catch (PluginException e)
            {
                answers.Add(ResolvedSecret.Failed(e.Message));
            }
        }

        return answers;
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
            await EnsureStartedAsync(cancellationToken);
            if (SpeaksResolveSecret)
            {
                return (true, "running; it speaks the original ResolveSecret protocol, which has no health call");
            }

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
            if (_protocol == ResolveSecretProtocol)
            {
                return Started(process, ResolveSecretCapabilities);
            }

            try
            {
                using var answer = await process.CallAsync(PluginProtocol.Initialize, WriteInitialize, _timeout, cancellationToken);
                Capabilities = PluginCapabilities.Read(answer.Result) ?? throw new PluginException($"plugin {Name} answered initialize without protocolVersion {PluginProtocol.Version}");
                _process = process;
                _failedStarts = 0;
                return process;
            }
            catch (PluginException e) when (e.RpcCode == PluginErrorCodes.MethodNotFound && _protocol is null && process.IsAlive)
            {
                // A plugin of the original project: it knows only ResolveSecret.
                _host.Log?.Invoke(Name, "does not know initialize: speaking the original project's ResolveSecret protocol to it (protocol: resolve-secret says so in dso.yaml)");
                return Started(process, ResolveSecretCapabilities);
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

    private static readonly PluginCapabilities ResolveSecretCapabilities = new(Versions: false, MaxBatch: 1, Plugin: ResolveSecretProtocol);

    private PluginProcess Started(PluginProcess process, PluginCapabilities capabilities)
    {
        Capabilities = capabilities;
        _process = process;
        _failedStarts = 0;
        return process;
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
