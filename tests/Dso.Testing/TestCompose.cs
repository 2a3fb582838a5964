using Dso.Processes;

namespace Dso.Testing;

/// <summary>
/// Compose as the lane the tests run in has it (scripts/test.sh): `docker compose` (v2) in the main
/// lane, `docker-compose` (v1) in the compatibility lane — decided as DSO decides it, by whether
/// `docker compose` answers. Tests use it to check or clean up what `docker dso` did.
/// </summary>
public static class TestCompose
{
    private static readonly Lazy<bool> IsV2 = new(() => Environment.GetEnvironmentVariable("DSO_COMPOSE") switch
    {
        "v1" => false,
        "v2" => true,
        _ => ChildProcess.RunAsync("docker", ["compose", "version"], new ChildProcessOptions { Timeout = TimeSpan.FromSeconds(30) }).GetAwaiter().GetResult().Succeeded,
    });

    /// <summary>"v2" or "v1".</summary>
    public static string Version => IsV2.Value ? "v2" : "v1";

    /// <summary>The separator compose puts in container names: `project-service-1` (v2), `project_service_1` (v1).</summary>
    public static string NameSeparator => IsV2.Value ? "-" : "_";

    /// <summary>
    /// Gives a Docker configuration directory a test made for itself the lane's Compose v2 plugin
    /// (a user's docker has Compose installed); returns the directory.
    /// </summary>
    public static string WithComposePlugin(string dockerConfig)
    {
        var plugins = Path.Combine(dockerConfig, "cli-plugins");
        Directory.CreateDirectory(plugins);
        if (Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { } lane && File.Exists(Path.Combine(lane, "cli-plugins", "docker-compose")))
        {
            File.Copy(Path.Combine(lane, "cli-plugins", "docker-compose"), Path.Combine(plugins, "docker-compose"), overwrite: true);
        }

        return dockerConfig;
    }

    public static Task<ProcessResult> RunAsync(IEnumerable<string> arguments, ChildProcessOptions? options = null, CancellationToken cancellationToken = default) =>
        IsV2.Value
            ? ChildProcess.RunAsync("docker", ["compose", .. arguments], options, cancellationToken)
            : ChildProcess.RunAsync("docker-compose", arguments, options, cancellationToken);
}
