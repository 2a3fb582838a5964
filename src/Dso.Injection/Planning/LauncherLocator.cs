namespace Dso.Injection.Planning;

/// <summary>
/// Finds dso-init on this host (it is bind-mounted into containers): DSO_INIT, else the install
/// locations scripts/install.sh uses, else beside docker-dso itself.
/// </summary>
internal static class LauncherLocator
{
    public const string Variable = "DSO_INIT";

    public static string Find(Func<string, string?> variable)
    {
        if (variable(Variable) is { } configured)
        {
            var full = Path.GetFullPath(configured);
            return File.Exists(full) ? full : throw new DsoException($"{Variable}={configured}: no such file; point it at the dso-init launcher");
        }

        var candidates = new List<string> { "/usr/local/lib/dso/dso-init", "/usr/lib/dso/dso-init" };
        if (variable("HOME") is { } home)
        {
            candidates.Add(Path.Combine(home, ".local", "lib", "dso", "dso-init"));
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, "dso-init"));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new DsoException($"dso-init, the in-container launcher, is not installed (looked in {string.Join(", ", candidates)}); run scripts/install.sh or set {Variable}");
    }
}
