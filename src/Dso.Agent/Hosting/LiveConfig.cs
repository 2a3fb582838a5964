using Dso.Configuration;

namespace Dso.Agent.Hosting;

/// <summary>
/// The agent's dso.yaml as last loaded successfully, with when it was loaded and how the last
/// reload went. Readers take <see cref="Current"/> at each use, so a reload applies to the next
/// rotation, check and notification; only <see cref="ConfigReloader"/> changes it.
/// </summary>
internal sealed class LiveConfig(LoadedConfig loaded, TimeProvider time)
{
    private volatile Snapshot _snapshot = new(loaded, time.GetUtcNow(), null, 0);

    public DsoConfig Current => _snapshot.Loaded.Config;

    public LoadedConfig Loaded => _snapshot.Loaded;

    /// <summary>The file the configuration came from (null: none was found, defaults).</summary>
    public string? Path => _snapshot.Loaded.Path;

    public DateTimeOffset LoadedAt => _snapshot.LoadedAt;

    /// <summary>Why the last reload was refused (null when it was applied, or none was tried).</summary>
    public string? LastError => _snapshot.LastError;

    /// <summary>Reloads tried since the agent started, applied or not.</summary>
    public int Reloads => _snapshot.Reloads;

    internal void Applied(LoadedConfig next) => _snapshot = new(next, time.GetUtcNow(), null, _snapshot.Reloads + 1);

    internal void Refused(string error) => _snapshot = _snapshot with { LastError = error, Reloads = _snapshot.Reloads + 1 };

    private sealed record Snapshot(LoadedConfig Loaded, DateTimeOffset LoadedAt, string? LastError, int Reloads);
}
