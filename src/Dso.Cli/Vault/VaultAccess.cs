using System.Text;
using Dso.Vault;

namespace Dso.Cli.Vault;

/// <summary>
/// Finds the local vault — the one dso.yaml's local provider names (`vault_file`,
/// `master_key_file`, as the seed's local-mode example writes them), else the environment's
/// (DSO_HOME, DSO_VAULT, DSO_KEY_FILE) — and unlocks it, asking for a passphrase on the terminal
/// when one is needed and not in DSO_PASSPHRASE. Every vault command and the `local` provider use
/// this one lookup, so they agree on one vault.
/// </summary>
internal sealed class VaultAccess
{
    private readonly CliContext _context;

    /// <summary>The vault the commands use: dso.yaml's local provider, else the environment's.</summary>
    public VaultAccess(CliContext context)
        : this(context, ConfiguredLocal(context))
    {
    }

    /// <summary>A vault at the paths a `local` provider of dso.yaml names (null: the environment's).</summary>
    public VaultAccess(CliContext context, string? vaultFile, string? keyFile)
        : this(context, (vaultFile, keyFile))
    {
    }

    private VaultAccess(CliContext context, (string? VaultFile, string? KeyFile) paths)
    {
        _context = context;
        Settings = VaultUnlocker.WithPaths(
            VaultSettings.FromEnvironment(context.GetEnvironmentVariable), paths.VaultFile, paths.KeyFile, context.GetEnvironmentVariable("HOME"), context.WorkingDirectory);
    }

    public VaultSettings Settings { get; }

    public LocalVault Open() => VaultUnlocker.Open(Settings, prompt => _context.InputIsTerminal ? _context.ReadHidden(prompt) : null);

    /// <summary>The shortest passphrase a vault is given, however it arrives (terminal or environment).</summary>
    public const int MinimumPassphraseLength = 8;

    /// <summary>
    /// Asks for a passphrase: the value of the variable <paramref name="variable"/>, else the terminal
    /// (twice when <paramref name="isNew"/>). A new passphrase has at least
    /// <see cref="MinimumPassphraseLength"/> characters wherever it came from.
    /// </summary>
    public string ReadPassphrase(string prompt, bool isNew, string variable)
    {
        if (_context.GetEnvironmentVariable(variable) is { } fromEnvironment)
        {
            if (isNew && TooShort(fromEnvironment))
            {
                throw new DsoException($"{variable} is shorter than {MinimumPassphraseLength} characters (spaces not counted); a vault's passphrase must be at least {MinimumPassphraseLength}, nothing was changed");
            }

            return fromEnvironment;
        }

        var first = _context.InputIsTerminal ? _context.ReadHidden(prompt) : null;
        if (first is null)
        {
            throw new DsoException($"a passphrase is needed and there is no terminal to ask on; run in a terminal, or set {variable} (less safe: other processes of this user can read it)");
        }

        if (isNew)
        {
            if (TooShort(first))
            {
                throw new DsoException($"the passphrase is shorter than {MinimumPassphraseLength} characters (spaces not counted); choose a longer one");
            }

            if (_context.ReadHidden("Repeat the passphrase: ") != first)
            {
                throw new DsoException("the two passphrases differ; nothing was changed");
            }
        }

        return first;
    }

    /// <summary>
    /// The paths of the local provider references use by default: the default provider when it is
    /// of type local, else the one named `local`, else the only local one; none when dso.yaml has none.
    /// </summary>
    private static (string? VaultFile, string? KeyFile) ConfiguredLocal(CliContext context)
    {
        var config = Dso.Configuration.ConfigLoader.Load(context.ConfigPath, context.GetEnvironmentVariable, context.WorkingDirectory).Config;
        var locals = config.Providers.Where(p => p.Value.Type == "local").ToList();
        var chosen = locals.FirstOrDefault(p => p.Key == Dso.Configuration.ConfigLoader.DefaultProvider(config)).Value
            ?? locals.FirstOrDefault(p => p.Key == "local").Value
            ?? (locals.Count == 1 ? locals[0].Value : null);
        return (chosen?.VaultFile, chosen?.MasterKeyFile);
    }

    /// <summary>Fewer than the minimum characters (Unicode scalars, not UTF-16 units), not counting spaces.</summary>
    private static bool TooShort(string passphrase) => passphrase.EnumerateRunes().Count(r => !Rune.IsWhiteSpace(r)) < MinimumPassphraseLength;
}
