namespace Dso.Processes;

/// <summary>
/// The one policy for what DSO's children inherit: compose, the docker CLI, systemctl and groupadd,
/// and provider plugins (built-in or configured) never see the local vault's credentials, whatever
/// the caller or the configuration asks. <see cref="ChildProcess"/> and the plugin host both apply
/// it. The agent is not a child: `docker dso agent` becomes dso-agent with execv, the same process,
/// and it needs the credentials to open the vault itself.
/// </summary>
public static class ChildEnvironment
{
    /// <summary>The variables that unlock the local vault (and the one `rekey` reads the new passphrase from).</summary>
    public static IReadOnlyList<string> VaultCredentials { get; } = ["DSO_PASSPHRASE", "DSO_MASTER_KEY", "DSO_NEW_PASSPHRASE"];

    public static bool IsWithheld(string name) => VaultCredentials.Contains(name, StringComparer.Ordinal);

    /// <summary>Removes every withheld variable from a child's environment, as it is about to start.</summary>
    public static void Strip(IDictionary<string, string?> environment)
    {
        foreach (var name in VaultCredentials)
        {
            environment.Remove(name);
        }
    }
}
