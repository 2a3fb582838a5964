namespace Dso.Ipc;

/// <summary>
/// The agent daemon's executable, `dso-agent` (NativeAOT), installed beside docker-dso, and the
/// command line `docker dso agent` hands over to it with: the resolved --config and --log-level.
/// </summary>
public static class AgentExecutable
{
    public const string Name = "dso-agent";

    public static IReadOnlyList<string> Arguments(string? configPath, string? logLevel) =>
        [Name, .. configPath is null ? [] : new[] { "--config", configPath }, .. logLevel is null ? [] : new[] { "--log-level", logLevel }];
}
