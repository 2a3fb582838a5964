using System.Security.Cryptography;
using Dso.Secrets;

namespace Dso.Vault;

/// <summary>
/// The local encrypted vault (spec §8). Unlocked once per process: the data key stays in memory,
/// so writes never re-run Argon2. Every write locks the file, re-reads it (another process may
/// have written since), applies one change and replaces the file atomically — two writers lose
/// nothing, and a reader never sees half a write.
/// </summary>
public sealed class LocalVault : IDisposable
{
    private readonly VaultFile _file;
    private VaultKeys _keys;
    private readonly TimeProvider _time;
    private VaultDocument _document;
    private (long, DateTime, UnixFileMode) _identity;

    private LocalVault(VaultFile file, VaultKeys keys, VaultDocument document, TimeProvider time)
    {
        _file = file;
        _keys = keys;
        _document = document;
        _time = time;
        _identity = file.Identity();
    }

    public string Path => _file.Path;

    public KdfKind Protection => _document.Header.Kdf.Kind;

    public static LocalVault Create(string path, VaultCredential credential, TimeProvider? time = null) =>
        Create(path, credential, credential.Kind == KdfKind.Passphrase
            ? KdfParameters.NewPassphrase(RandomNumberGenerator.GetBytes(VaultFormat.SaltSize))
            : KdfParameters.NewKeyFile(RandomNumberGenerator.GetBytes(VaultFormat.SaltSize)), time);

    /// <summary>Creates a vault with explicit KDF parameters (tests use cheaper Argon2 settings).</summary>
    internal static LocalVault Create(string path, VaultCredential credential, KdfParameters kdf, TimeProvider? time = null)
    {
        var file = new VaultFile(path);
        if (file.Exists)
        {
            throw new DsoException($"a vault already exists at {file.Path}; it was not touched (remove it first, or set DSO_VAULT to another path)");
        }

        file.EnsureDirectory();
        var keys = VaultKeys.CreateRandom();
        var kek = credential.DeriveKeyEncryptionKey(kdf);
        try
        {
            var document = new VaultDocument(VaultHeader.Wrap(kdf, kek, keys.DataKey), []);
            using (file.Lock())
            {
                if (file.Exists)
                {
                    throw new DsoException($"a vault already exists at {file.Path}; it was not touched");
                }

                file.WriteAtomically(document.Serialize(keys));
            }

            return new LocalVault(file, keys, document, time ?? TimeProvider.System);
        }
        catch
        {
            keys.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    /// <summary>Opens and unlocks a vault; <paramref name="credentialFor"/> is asked for the kind of credential the vault needs.</summary>
    public static LocalVault Open(string path, Func<KdfKind, VaultCredential> credentialFor, TimeProvider? time = null)
    {
        var file = new VaultFile(path);
        var bytes = file.Read();
        var header = VaultHeader.Parse(bytes, file.Path);
        using var credential = credentialFor(header.Kdf.Kind);
        var kek = credential.DeriveKeyEncryptionKey(header.Kdf);
        VaultKeys keys;
        try
        {
            keys = header.Unwrap(kek, file.Path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }

        try
        {
            return new LocalVault(file, keys, VaultDocument.Parse(bytes, header, keys, file.Path), time ?? TimeProvider.System);
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }

    public IReadOnlyList<SecretInfo> List(string? prefix = null) =>
        [.. Current().Entries
            .Where(e => prefix is null || e.Name.StartsWith(prefix, StringComparison.Ordinal))
            .GroupBy(e => e.Name, StringComparer.Ordinal)
            .Select(g =>
            {
                var latest = g.MaxBy(e => e.Version)!;
                return new SecretInfo(g.Key, latest.Version, latest.CreatedAt, g.Count());
            })
            .OrderBy(i => i.Name, StringComparer.Ordinal)];

    /// <summary>The current value (or the given version) of a secret; the caller disposes it.</summary>
    public SecretValue Get(string name, uint? version = null) =>
        TryGet(name, version) ?? throw new DsoException(MissingMessage(name, version));

    /// <summary>Like <see cref="Get"/>, but null when there is no such secret or version.</summary>
    public SecretValue? TryGet(string name, uint? version = null) => Find(Current(), name, version)?.Open(_keys, Path);

    /// <summary>The one-line explanation for a name or version that is not in the vault.</summary>
    public string MissingMessage(string name, uint? version) => version is null
        ? $"no secret named {name} in vault {Path}; 'docker dso secret list' shows what there is"
        : $"secret {name} has no version {version} in vault {Path}; 'docker dso secret history {name}' shows the versions kept";

    public bool Contains(string name) => Current().Entries.Any(e => e.Name == name);

    public IReadOnlyList<SecretVersionInfo> History(string name)
    {
        var versions = Current().Entries.Where(e => e.Name == name).OrderByDescending(e => e.Version).ToList();
        if (versions.Count == 0)
        {
            throw new DsoException($"no secret named {name} in vault {Path}; 'docker dso secret list' shows what there is");
        }

        return [.. versions.Select((e, i) => new SecretVersionInfo(e.Name, e.Version, e.CreatedAt, e.Ciphertext.Length, i == 0))];
    }

    public SetOutcome Set(string name, SecretValue value) => SetMany([(name, value)])[0];

    /// <summary>Writes several values in one locked write (import); values equal to the current one make no new version.</summary>
    public IReadOnlyList<SetOutcome> SetMany(IReadOnlyList<(string Name, SecretValue Value)> values)
    {
        foreach (var (name, value) in values)
        {
            SecretName.Validate(name);
            if (value.Length == 0)
            {
                throw new DsoException($"the value for {name} is empty; empty secrets are refused");
            }

            if (value.Length > VaultFormat.MaxValueBytes)
            {
                throw new DsoException($"the value for {name} is {value.Length} bytes; the limit is {VaultFormat.MaxValueBytes} bytes (1 MiB)");
            }
        }

        var outcomes = new List<SetOutcome>();
        Update(entries =>
        {
            var now = _time.GetUtcNow();
            var byName = entries.GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Version).ToList(), StringComparer.Ordinal);
            foreach (var (name, value) in values)
            {
                var existing = byName.TryGetValue(name, out var found) ? found : byName[name] = [];
                var latest = existing.LastOrDefault();
                if (latest is not null)
                {
                    using var current = latest.Open(_keys, Path);
                    if (current.Equals(value))
                    {
                        outcomes.Add(new SetOutcome(name, latest.Version, Changed: false, Created: false));
                        continue;
                    }
                }

                existing.Add(VaultEntry.Seal(_keys, name, (latest?.Version ?? 0) + 1, now, value));
                if (existing.Count > VaultFormat.HistoryLimit)
                {
                    existing.RemoveRange(0, existing.Count - VaultFormat.HistoryLimit);
                }

                outcomes.Add(new SetOutcome(name, existing[^1].Version, Changed: true, Created: latest is null));
            }

            entries.Clear();
            entries.AddRange(byName.Values.SelectMany(v => v));
        });
        return outcomes;
    }

    /// <summary>Deletes a secret and all its kept versions. False when there was no such secret.</summary>
    public bool Remove(string name)
    {
        var removed = 0;
        Update(entries => removed = entries.RemoveAll(e => e.Name == name));
        return removed > 0;
    }

    /// <summary>
    /// Protects the vault with a new credential and a new data key: every kept version of every
    /// entry is opened with the old key and sealed with the new one, in one locked, atomic write.
    /// An old credential with an old copy of the file then opens only what that copy held.
    /// </summary>
    public void Rekey(VaultCredential credential)
    {
        var kdf = credential.Kind == KdfKind.Passphrase
            ? KdfParameters.NewPassphrase(RandomNumberGenerator.GetBytes(VaultFormat.SaltSize))
            : KdfParameters.NewKeyFile(RandomNumberGenerator.GetBytes(VaultFormat.SaltSize));
        var kek = credential.DeriveKeyEncryptionKey(kdf);
        var next = VaultKeys.CreateRandom();
        try
        {
            using (_file.Lock())
            {
                Reload();
                var entries = _document.Entries.Select(entry =>
                {
                    using var value = entry.Open(_keys, Path);
                    return VaultEntry.Seal(next, entry.Name, entry.Version, entry.CreatedAt, value);
                }).ToList();
                var document = new VaultDocument(VaultHeader.Wrap(kdf, kek, next.DataKey), entries);
                _file.WriteAtomically(document.Serialize(next));
                (_keys, next) = (next, _keys);
                _document = document;
                _identity = _file.Identity();
            }
        }
        finally
        {
            next.Dispose();
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    public void Dispose() => _keys.Dispose();

    private static VaultEntry? Find(VaultDocument document, string name, uint? version) =>
        document.Entries.Where(e => e.Name == name && (version is null || e.Version == version)).MaxBy(e => e.Version);

    private VaultDocument Current()
    {
        var identity = _file.Identity();
        if (identity != _identity)
        {
            Reload();
        }

        return _document;
    }

    private void Reload()
    {
        var identity = _file.Identity();
        var bytes = _file.Read();
        var header = VaultHeader.Parse(bytes, _file.Path);
        if (!header.WrappedKey.AsSpan().SequenceEqual(_document.Header.WrappedKey))
        {
            // Not remembered as read: every later call says so too, rather than serve the old document.
            throw new VaultRekeyedException(_file.Path);
        }

        _document = VaultDocument.Parse(bytes, header, _keys, _file.Path);
        _identity = identity;
    }

    private void Update(Action<List<VaultEntry>> change, VaultHeader? newHeader = null)
    {
        using (_file.Lock())
        {
            Reload();
            var entries = _document.Entries.ToList();
            change(entries);
            var document = new VaultDocument(newHeader ?? _document.Header, entries);
            _file.WriteAtomically(document.Serialize(_keys));
            _document = document;
            _identity = _file.Identity();
        }
    }
}
