using System.Diagnostics;
using Dso.Agent.Observability;
using Dso.Providers;

namespace Dso.Agent.Secrets;

/// <summary>
/// A provider seen through the agent's cache. With <c>preferCache</c> (repairs after a reboot) a
/// fresh cached value is used without asking the provider; with a <c>ledger</c> (rotations) a
/// cached value is used when it was fetched after its version was last confirmed, so only what
/// changed is read; otherwise (registration, refresh) the provider is always asked and the cache
/// updated. Either way, when the provider fails, the last
/// known good value is served and the failure recorded. Every value it sees is given to the
/// redactor.
/// </summary>
internal sealed class CachingProvider(
    ISecretProvider inner,
    SecretCache cache,
    bool preferCache,
    ProviderHealthBook health,
    DsoMetrics metrics,
    SecretRedactor redactor,
    VersionLedger? ledger = null,
    string? cacheName = null) : ISecretProvider
{
    public string Name => inner.Name;

    public async Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var results = new ResolvedSecret?[requests.Count];
        var misses = new List<int>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var cached = preferCache ? cache.TryGetFresh(Key(request))
                : ledger is not null && request.Version is null ? cache.TryGetFetched(Key(request), at => ledger.IsCurrent(Name, request.Path, at))
                : null;
            if (cached is not null)
            {
                metrics.CacheHits.Inc();
                results[i] = ResolvedSecret.Found(cached);
            }
            else
            {
                if (preferCache || ledger is not null)
                {
                    metrics.CacheMisses.Inc();
                }

                misses.Add(i);
            }
        }

        if (misses.Count > 0)
        {
            var answers = await AskAsync([.. misses.Select(i => requests[i])], cancellationToken);
            for (var m = 0; m < misses.Count; m++)
            {
                results[misses[m]] = Settle(requests[misses[m]], answers[m]);
            }
        }

        metrics.CacheEntries.Set(cache.Count);
        return [.. results.Select(r => r!)];
    }

    private async Task<IReadOnlyList<ResolvedSecret>> AskAsync(List<SecretRequest> requests, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        IReadOnlyList<ResolvedSecret> answers;
        try
        {
            answers = await inner.ResolveAsync(requests, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var error = redactor.Redact($"provider {Name} failed: {e.Message}");
            answers = [.. requests.Select(_ => ResolvedSecret.Failed(error))];
        }

        metrics.ObserveProviderCall(Name, watch.Elapsed.TotalSeconds);
        var failure = answers.FirstOrDefault(a => a.Transient)?.Error;
        metrics.ProviderRequests.WithLabels(Name, failure is null ? "ok" : "error").Inc();
        health.Record(Name, failure is null ? null : redactor.Redact(failure));
        return answers;
    }

    private ResolvedSecret Settle(SecretRequest request, ResolvedSecret answer)
    {
        var key = Key(request);
        if (answer.Value is { } value)
        {
            redactor.Remember(value.Reveal());
            cache.Put(key, value);
            return answer;
        }

        if (answer.Transient && cache.TryGetLastKnownGood(key) is { } lastKnownGood)
        {
            metrics.LastKnownGood.Inc();
            return ResolvedSecret.Found(lastKnownGood);
        }

        return answer with { Error = answer.Error is null ? null : redactor.Redact(answer.Error) };
    }

    /// <summary>Cached under the provider's name, or the name of its settings' epoch after a reload changed them (so a call still running on the old settings never fills the new ones' entries).</summary>
    private CacheKey Key(SecretRequest request) => new(cacheName ?? Name, request.Path, request.Version);
}
