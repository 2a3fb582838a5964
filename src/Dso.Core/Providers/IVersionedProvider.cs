namespace Dso.Providers;

/// <summary>
/// A provider that can say cheaply which version of a secret it holds, without reading the value
/// (vault entry numbers, AWS VersionId, Vault KV v2 metadata, Azure version ids). The agent polls
/// this and reads a value only when its version moved. Answers come back in request order.
/// </summary>
public interface IVersionedProvider
{
    /// <summary>False when this provider (a plugin that did not declare the capability) cannot answer version calls.</summary>
    bool CanCheckVersions => true;

    Task<IReadOnlyList<SecretVersion>> VersionsAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken);
}

/// <summary>
/// A secret's current version id (never a value) and, when the provider dates it, when that version
/// was made; or why there is none. <see cref="Transient"/> as in <see cref="ResolvedSecret"/>.
/// </summary>
public sealed record SecretVersion(string? Version, DateTimeOffset? ChangedAt, string? Error = null, bool Transient = false);

/// <summary>A provider whose secrets live in a local file the agent can watch (inotify) to notice changes at once.</summary>
public interface IWatchableProvider
{
    string WatchedFile { get; }
}
