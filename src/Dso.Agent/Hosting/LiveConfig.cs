using System.Security.Cryptography;
using Dso.Configuration;

namespace Dso.Agent.Hosting;

/// <summary>
/// The agent's dso.yaml as last loaded successfully, with when it was loaded and how the last
/// reload went. Readers take <see cref="Current"/> at each use, so a reload applies to the next
/// rotation, check and notification; only <see cref="ConfigReloader"/> changes it.
/// </summary>
internal sealed class LiveConfig
{
    private volatile ConfigState _state;

    public LiveConfig(LoadedConfig loaded, TimeProvider time)
    {
        Time = time;
        _state = new ConfigState(loaded, time.GetUtcNow(), null, 0, HashOf(loaded.Path));
    }

    private TimeProvider Time { get; }

    /// <summary>Everything at once, as one reload left it (status reads this, so the count and the error agree).</summary>
    public ConfigState State => _state;

    public DsoConfig Current => _state.Loaded.Config;

    public LoadedConfig Loaded => _state.Loaded;

    /// <summary>The file the configuration came from (null: none was found, defaults).</summary>
    public string? Path => _state.Loaded.Path;

    public DateTimeOffset LoadedAt => _state.LoadedAt;

    /// <summary>Why the last reload was refused (null when it was applied, or none was tried).</summary>
    public string? LastError => _state.LastError;

    /// <summary>The SHA-256 of the bytes in use (null when there is no file).</summary>
    public byte[]? AppliedHash => _state.AppliedHash;

    internal void Applied(LoadedConfig next, byte[]? hash) => _state = new ConfigState(next, Time.GetUtcNow(), null, _state.Reloads + 1, hash);

    /// <summary>A reload that found the bytes in use: counted, nothing else changes.</summary>
    internal void Confirmed() => _state = _state with { Reloads = _state.Reloads + 1 };

    internal void Refused(string error) => _state = _state with { LastError = error, Reloads = _state.Reloads + 1 };

    private static byte[]? HashOf(string? path)
    {
        try
        {
            return path is null ? null : SHA256.HashData(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>One state of the agent's configuration: what is loaded, since when, the last refusal, and how many reloads were tried.</summary>
internal sealed record ConfigState(LoadedConfig Loaded, DateTimeOffset LoadedAt, string? LastError, int Reloads, byte[]? AppliedHash);
