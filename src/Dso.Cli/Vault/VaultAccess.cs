using System.Text;
using Dso.Vault;

namespace Dso.Cli.Vault;

/// <summary>
/// Finds the local vault from the environment (and dso.yaml's `local` provider paths, when given)
/// and unlocks it, asking for a passphrase on the terminal when one is needed and not in
/// DSO_PASSPHRASE.
/// </summary>
internal sealed class VaultAccess(CliContext context, string? vaultFile = null, string? keyFile = null)
{
    public VaultSettings Settings { get; } = VaultUnlocker.WithPaths(
        VaultSettings.FromEnvironment(context.GetEnvironmentVariable), vaultFile, keyFile, context.GetEnvironmentVariable("HOME"), context.WorkingDirectory);

    public LocalVault Open() => VaultUnlocker.Open(Settings, prompt => context.InputIsTerminal ? context.ReadHidden(prompt) : null);

    /// <summary>The shortest passphrase a vault is given, however it arrives (terminal or environment).</summary>
    public const int MinimumPassphraseLength = 8;

    /// <summary>
    /// Asks for a passphrase: the value of the variable <paramref name="variable"/>, else the terminal
    /// (twice when <paramref name="isNew"/>). A new passphrase has at least
    /// <see cref="MinimumPassphraseLength"/> characters wherever it came from.
    /// </summary>
    public string ReadPassphrase(string prompt, bool isNew, string variable)
    {
        if (context.GetEnvironmentVariable(variable) is { } fromEnvironment)
        {
            if (isNew && TooShort(fromEnvironment))
            {
                throw new DsoException($"{variable} is shorter than {MinimumPassphraseLength} characters (spaces not counted); a vault's passphrase must be at least {MinimumPassphraseLength}, nothing was changed");
            }

            return fromEnvironment;
        }

        var first = context.InputIsTerminal ? context.ReadHidden(prompt) : null;
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

            if (context.ReadHidden("Repeat the passphrase: ") != first)
            {
                throw new DsoException("the two passphrases differ; nothing was changed");
            }
        }

        return first;
    }

    /// <summary>Fewer than the minimum characters (Unicode scalars, not UTF-16 units), not counting spaces.</summary>
    private static bool TooShort(string passphrase) => passphrase.EnumerateRunes().Count(r => !Rune.IsWhiteSpace(r)) < MinimumPassphraseLength;
}
