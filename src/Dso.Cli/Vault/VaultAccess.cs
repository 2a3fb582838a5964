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

    /// <summary>Asks for a passphrase: <paramref name="environmentValue"/>, else the terminal (twice when <paramref name="confirm"/>).</summary>
    public string ReadPassphrase(string prompt, bool confirm, string? environmentValue)
    {
        if (environmentValue is not null)
        {
            return environmentValue;
        }

        var first = context.InputIsTerminal ? context.ReadHidden(prompt) : null;
        if (first is null)
        {
            throw new DsoException("a passphrase is needed and there is no terminal to ask on; run in a terminal, or set DSO_PASSPHRASE (less safe: other processes of this user can read it)");
        }

        if (confirm)
        {
            if (first.Length < 8)
            {
                throw new DsoException("the passphrase is shorter than 8 characters; choose a longer one");
            }

            if (context.ReadHidden("Repeat the passphrase: ") != first)
            {
                throw new DsoException("the two passphrases differ; nothing was changed");
            }
        }

        return first;
    }
}
