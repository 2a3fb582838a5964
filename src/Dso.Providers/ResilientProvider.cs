using Dso.Configuration;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Dso.Providers;

/// <summary>
/// Retries and a circuit breaker around a provider (spec 7, through Polly). A call fails when
/// every answer is a transient failure (the provider itself is in trouble, not a missing secret);
/// it is retried with exponential backoff and jitter (`retry`), and when at least `circuit.failures`
/// calls in the last minute all failed the circuit opens for `circuit.open_for`: calls fail
/// at once, saying so, so that the cache serves last-known-good values. Then one trial call
/// (half-open) closes it again or keeps it open.
/// </summary>
internal sealed class ResilientProvider : ISecretProvider, IVersionedProvider, IDisposable
{
    private readonly ISecretProvider _inner;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly ResiliencePipeline<IReadOnlyList<ResolvedSecret>> _resolve;
    private readonly ResiliencePipeline<IReadOnlyList<SecretVersion>> _versions;
    private readonly TimeSpan _openFor;

    public ResilientProvider(ISecretProvider inner, ProviderConfig config, TimeProvider time)
    {
        _inner = inner;
        _openFor = config.Circuit.OpenFor;
        _resolve = Pipeline<IReadOnlyList<ResolvedSecret>>(config, time, r => r.Count > 0 && r.All(a => a.Transient));
        _versions = Pipeline<IReadOnlyList<SecretVersion>>(config, time, r => r.Count > 0 && r.All(v => v.Transient));
    }

    public string Name => _inner.Name;

    /// <summary>closed, open or half-open.</summary>
    public string CircuitState => _state.CircuitState switch
    {
        Polly.CircuitBreaker.CircuitState.Closed => "closed",
        Polly.CircuitBreaker.CircuitState.HalfOpen => "half-open",
        _ => "open",
    };

    public ISecretProvider Inner => _inner;

    public bool CanCheckVersions => _inner is IVersionedProvider { CanCheckVersions: true };

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        try
        {
            return await _resolve.ExecuteAsync(async token => await _inner.ResolveAsync(requests, token), cancellationToken);
        }
        catch (BrokenCircuitException)
        {
            return [.. requests.Select(_ => ResolvedSecret.Failed(OpenMessage))];
        }
    }

    public async Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        if (_inner is not IVersionedProvider versioned)
        {
            return [.. requests.Select(_ => new SecretVersion(null, null, $"provider {Name} reports no versions", Transient: true))];
        }

        try
        {
            return await _versions.ExecuteAsync(async token => await versioned.VersionsAsync(requests, token), cancellationToken);
        }
        catch (BrokenCircuitException)
        {
            return [.. requests.Select(_ => new SecretVersion(null, null, OpenMessage, Transient: true))];
        }
    }

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    private string OpenMessage => $"provider {Name}: circuit open after repeated failures; not asked again for up to {_openFor.TotalSeconds:0} s";

    private ResiliencePipeline<T> Pipeline<T>(ProviderConfig config, TimeProvider time, Func<T, bool> failed)
    {
        var shouldHandle = new PredicateBuilder<T>().HandleResult(failed);
        var builder = new ResiliencePipelineBuilder<T> { TimeProvider = time };
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<T>
        {
            FailureRatio = 1.0,
            MinimumThroughput = Math.Max(2, config.Circuit.Failures),
            SamplingDuration = TimeSpan.FromMinutes(1),
            BreakDuration = config.Circuit.OpenFor,
            StateProvider = typeof(T) == typeof(IReadOnlyList<ResolvedSecret>) ? _state : null,
            ShouldHandle = shouldHandle,
        });
        if (config.Retry.Attempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<T>
            {
                MaxRetryAttempts = config.Retry.Attempts - 1,
                Delay = config.Retry.Backoff,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = shouldHandle,
            });
        }

        return builder.Build();
    }
}
