namespace Dso.Providers.Plugins;

/// <summary>
/// What a plugin's host provides: the environment (for the allow-list), where plugin stderr lines
/// go (already stripped of the provider's own credentials; the agent also passes them through its
/// redactor), the clock, the executable that runs the built-in plugins, and — when the
/// configuration came from the project being checked and the user did not vouch for it — the path
/// of that file: then no provider that runs a process or reaches a network is started.
/// </summary>
internal sealed record PluginHost(Func<string, string?> Variable, Action<string, string>? Log, TimeProvider Time, string BuiltInCommand, string? UntrustedConfig = null)
{
    /// <summary>The docker-dso executable: this process when it is docker-dso, else the one beside this assembly (tests).</summary>
    public static string SelfCommand =>
        Environment.ProcessPath is { } self && Path.GetFileName(self) == "docker-dso"
            ? self
            : Path.Combine(AppContext.BaseDirectory, "docker-dso");

    public static PluginHost Default(Func<string, string?> variable, Action<string, string>? log = null) =>
        new(variable, log, TimeProvider.System, SelfCommand);
}

/// <summary>How to start one plugin: the executable, its arguments, and the whole environment it gets.</summary>
internal sealed record PluginLaunch(string Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>
    /// The allow-list: the protocol's base variables, the provider type's own, and those the
    /// configuration names; only those present are passed, and never the vault's credentials.
    /// </summary>
    public static Dictionary<string, string> EnvironmentFor(IEnumerable<string> allowed, Func<string, string?> variable)
    {
        // A .NET plugin serves no diagnostics socket: a same-user process could otherwise read its memory through it.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["DOTNET_EnableDiagnostics"] = "0" };
        foreach (var name in Dso.Plugins.PluginProtocol.BaseEnvironment.Concat(allowed).Distinct(StringComparer.Ordinal))
        {
            if (!Dso.Processes.ChildEnvironment.IsWithheld(name) && variable(name) is { } value)
            {
                environment[name] = value;
            }
        }

        return environment;
    }
}
