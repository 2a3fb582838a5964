using Dso.Configuration;
using Polly;
using Polly.Retry;

namespace Dso.Providers;

/// <summary>
/// Retries and a circuit breaker around a provider (spec 7). A call fails when every answer is a
/// transient failure (the provider itself is in trouble, not a missing secret); it is retried with
/// exponential backoff and jitter (`retry`, through Polly), and after `circuit.failures` failed
/// calls in a row (each after its retries; value and version calls alike) the circuit opens for
/// `circuit.open_for`: calls fail at once, saying so, so that the cache serves last-known-good
/// values. Then one trial call (half-open) closes it again or keeps it open. The breaker counts
/// failures in a row, which Polly's ratio-over-a-window breaker does not, so it is written here.
/// </summary>
internal sealed class ResilientProvider : ISecretProvider, IVersionedProvider, IDisposable
{
    private readonly ISecretProvider _inner;
    private readonly ResiliencePipeline<object> _retry;
    private readonly TimeProvider _time;
    private readonly int _failures;
    private readonly TimeSpan _openFor;
    private readonly Lock _gate = new();
    private int _consecutive;
    private DateTimeOffset? _openedAt;
    private bool _trialInFlight;

    public ResilientProvider(ISecretProvider inner, ProviderConfig config, TimeProvider time)
    {
        _inner = inner;
        _time = time;
        _failures = Math.Max(1, config.Circuit.Failures);
        _openFor = config.Circuit.OpenFor;
        _retry = Retry(config, time);
    }

    public string Name => _inner.Name;

    /// <summary>closed, open or half-open.</summary>
    public string CircuitState
    {
        get
        {
            lock (_gate)
            {
                return _openedAt is not { } opened ? "closed" : _trialInFlight || _time.GetUtcNow() >= opened + _openFor ? "half-open" : "open";
            }
        }
    }

    public ISecretProvider Inner => _inner;

    public bool CanCheckVersions => _inner is IVersionedProvider { CanCheckVersions: true };

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken) =>
        await RunAsync(
            async token => await _inner.ResolveAsync(requests, token),
            () => [.. requests.Select(_ => ResolvedSecret.Failed(OpenMessage))],
            cancellationToken);

    public async Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        if (_inner is not IVersionedProvider versioned)
        {
            return [.. requests.Select(_ => new SecretVersion(null, null, $"provider {Name} reports no versions", Transient: true))];
        }

        return await RunAsync(
            async token => await versioned.VersionsAsync(requests, token),
            () => [.. requests.Select(_ => new SecretVersion(null, null, OpenMessage, Transient: true))],
            cancellationToken);
    }

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    private string OpenMessage => $"provider {Name}: circuit open after {_failures} failed calls in a row; not asked again for up to {_openFor.TotalSeconds:0} s";

    /// <summary>A call failed when every answer (values or versions) is a transient failure.</summary>
    private static bool Failed(object result) => result switch
    {
        IReadOnlyList<ResolvedSecret> answers => answers.Count > 0 && answers.All(a => a.Transient),
        IReadOnlyList<SecretVersion> versions => versions.Count > 0 && versions.All(v => v.Transient),
        _ => false,
    };

    private async Task<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> call, Func<T> refused, CancellationToken cancellationToken)
        where T : class
    {
        bool trial;
        lock (_gate)
        {
            trial = false;
            if (_openedAt is { } opened)
            {
                if (_trialInFlight || _time.GetUtcNow() < opened + _openFor)
                {
                    return refused();
                }

                _trialInFlight = trial = true;
            }
        }

        T result;
        try
        {
            result = (T)await _retry.ExecuteAsync<object>(async token => await call(token), cancellationToken);
        }
        catch
        {
            lock (_gate)
            {
                _trialInFlight = trial ? false : _trialInFlight;
            }

            throw;
        }

        lock (_gate)
        {
            if (trial)
            {
                _trialInFlight = false;
            }

            if (result is System.Collections.ICollection { Count: 0 })
            {
                // An empty batch tells nothing about the provider.
            }
            else if (Failed(result))
            {
                _consecutive++;
                if (trial || _consecutive >= _failures)
                {
                    _openedAt = _time.GetUtcNow();
                }
            }
            else
            {
                _consecutive = 0;
                _openedAt = null;
            }
        }

        return result;
    }

    private static ResiliencePipeline<object> Retry(ProviderConfig config, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<object> { TimeProvider = time };
        if (config.Retry.Attempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<object>
            {
                MaxRetryAttempts = config.Retry.Attempts - 1,
                Delay = config.Retry.Backoff,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<object>().HandleResult(Failed),
            });
        }

        return builder.Build();
    }
}
