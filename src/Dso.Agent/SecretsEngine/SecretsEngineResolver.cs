using Dso.Agent.Hosting;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Secrets;
using Dso.Injection.References;
using Dso.Secrets;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.SecretsEngine;

/// <summary>One secret the resolver answers: its id, the provider and reference it was resolved through, and the value (the caller disposes it).</summary>
internal sealed record ResolvedId(string Id, string Provider, string Reference, SecretValue Value) : IDisposable
{
    public void Dispose() => Value.Dispose();
}

/// <summary>What a GetSecrets call gets: the secrets, or a Connect error code and a message.</summary>
internal sealed class ResolverAnswer(IReadOnlyList<ResolvedId> secrets, ConnectCode? error = null, string? message = null) : IDisposable
{
    public IReadOnlyList<ResolvedId> Secrets => secrets;

    public ConnectCode? Error => error;

    public string Message => message ?? string.Empty;

    public static ResolverAnswer Failed(ConnectCode code, string message) => new([], code, message);

    public void Dispose()
    {
        foreach (var secret in secrets)
        {
            secret.Dispose();
        }
    }
}

/// <summary>
/// The agent's answer to the Docker Secrets Engine's GetSecrets (agent.secrets_engine): an id, or a
/// pattern over ids, resolved through dso.yaml's realms and the agent's providers (with its cache).
/// An exact id is resolved as asked; a pattern is matched only against the ids the agent serves —
/// the `se://` ids of the projects registered with it and the ids `realms:` names exactly — so a
/// caller can never make it enumerate a provider. Every answer is audited with the ids, never a value.
/// </summary>
internal sealed class SecretsEngineResolver(
    ProjectRegistry projects,
    AgentProviders providers,
    LiveConfig config,
    AuditLog audit,
    DsoMetrics metrics,
    ILogger<SecretsEngineResolver> log)
{
    public async Task<ResolverAnswer> GetAsync(string pattern, string actor, CancellationToken cancellationToken)
    {
        var target = $"pattern {SecretReference.Printable(pattern)}";
        if (SecretsEngineId.PatternProblem(pattern) is { } problem)
        {
            return Refuse(actor, target, "invalid", ConnectErrors.InvalidArgument, problem);
        }

        var realms = RealmMap.From(config.Current);
        List<string> ids;
        try
        {
            ids = SecretsEngineId.HasWildcard(pattern)
                ? [.. KnownIds(realms, cancellationToken).Where(id => SecretsEngineId.Matches(pattern, id)).Order(StringComparer.Ordinal)]
                : [pattern];
        }
        catch (OperationCanceledException)
        {
            return Refuse(actor, target, "failed", ConnectErrors.DeadlineExceeded, "matching the pattern took longer than the call's deadline");
        }

        if (ids.Count == 0)
        {
            return Refuse(actor, target, "not_found", ConnectErrors.NotFound, $"no secret the agent serves matches {SecretReference.Printable(pattern)} (a pattern is matched against the se:// ids of the projects registered with the agent and the ids realms: names exactly)");
        }

        var uses = new List<ServiceReference>();
        foreach (var id in ids)
        {
            if (!realms.TryMap(id, out var reference, out _, out var mapProblem))
            {
                // The agent's realms cannot map this id: a configuration problem, not a missing secret.
                return Refuse(actor, target, "invalid", ConnectErrors.InvalidArgument, mapProblem);
            }

            uses.Add(new ServiceReference("secrets engine", id, reference.ToString(), reference, $"se://{id}", SecretsEngineId: id));
        }

        IReadOnlyList<ReferenceOutcome> outcomes;
        try
        {
            outcomes = await ReferenceResolver.ResolveEachAsync(uses, providers.Current, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return Refuse(actor, target, "failed", ConnectErrors.DeadlineExceeded, "the providers did not answer in time");
        }

        // All or nothing, as `up` resolves a project: an answer never silently lacks an id the pattern matched.
        var failed = outcomes.Where(o => o.Value is null).ToList();
        if (failed.Count > 0)
        {
            foreach (var outcome in outcomes)
            {
                outcome.Value?.Dispose();
            }

            var first = failed.FirstOrDefault(o => o.Transient) ?? failed[0];
            var message = $"se://{first.Reference.Variable} ({first.Reference.Reference}): {first.Error}"
                + (failed.Count > 1 ? $" (and {failed.Count - 1} more of the {outcomes.Count} ids matched)" : string.Empty);
            return first.Transient
                ? Refuse(actor, target, "failed", ConnectErrors.Unavailable, message)
                : Refuse(actor, target, "not_found", ConnectErrors.NotFound, message);
        }

        var secrets = outcomes.Select(o => new ResolvedId(
            o.Reference.Variable,
            o.Reference.Reference.Provider ?? providers.Current.DefaultName ?? string.Empty,
            o.Reference.Reference.ToString(),
            o.Value!)).ToList();
        metrics.SecretsEngineRequests.WithLabels("served").Inc();
        audit.Write(actor, "secrets-engine.get", target, "ok", $"served {string.Join(", ", secrets.Select(s => s.Id))}");
        return new ResolverAnswer(secrets);
    }

    /// <summary>
    /// The ids a pattern may match: those realms: names exactly, and those of registered projects
    /// that the agent's realms map to the very reference the project was registered with (an id
    /// the CLI mapped through another dso.yaml is served by exact id only, as the agent maps it).
    /// </summary>
    private IEnumerable<string> KnownIds(RealmMap realms, CancellationToken cancellationToken) =>
        projects.Snapshot()
            .SelectMany(p => p.Registration.Services)
            .SelectMany(s => s.References)
            .Where(r => r.SecretsEngineId is { } id && SecretsEngineId.IdProblem(id) is null
                && realms.TryMap(id, out var mapped, out _, out _) && mapped.ToString() == r.Reference)
            .Select(r => r.SecretsEngineId!)
            .Concat(realms.ExactIds)
            .Distinct(StringComparer.Ordinal)
            .Select(id =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                return id;
            });

    private ResolverAnswer Refuse(string actor, string target, string result, ConnectCode code, string message)
    {
        metrics.SecretsEngineRequests.WithLabels(result).Inc();
        audit.Write(actor, "secrets-engine.get", target, result == "not_found" ? "not_found" : result == "invalid" ? "denied" : "failed", message);
        log.LogInformation("secrets engine resolver: {Target} for {Actor}: {Code}: {Message}", target, actor, code.Name, message);
        return ResolverAnswer.Failed(code, message);
    }
}
