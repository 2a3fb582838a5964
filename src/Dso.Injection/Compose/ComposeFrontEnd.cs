using Dso.Processes;

namespace Dso.Injection.Compose;

/// <summary>
/// The compose program DSO drives: `docker compose` (v2 plugin) when present, else
/// `docker-compose` (v1). DSO_COMPOSE=v1|v2 forces one.
/// </summary>
internal sealed record ComposeFrontEnd(string Program, IReadOnlyList<string> Prefix, bool IsV1)
{
    public static ComposeFrontEnd V2 { get; } = new("docker", ["compose"], false);

    public static ComposeFrontEnd V1 { get; } = new("docker-compose", [], true);

    public string DisplayName => IsV1 ? "docker-compose" : "docker compose";

    public static async Task<ComposeFrontEnd> DetectAsync(Func<string, string?> variable, CancellationToken cancellationToken)
    {
        switch (variable("DSO_COMPOSE"))
        {
            case "v1":
                return V1;
            case "v2":
                return V2;
            case null:
                break;
            case var other:
                throw new DsoException($"DSO_COMPOSE={other} is not understood; use v1 (docker-compose) or v2 (docker compose)");
        }

        if (OnPath("docker", variable) is not null)
        {
            var probe = await ChildProcess.RunAsync("docker", ["compose", "version"], new ChildProcessOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken);
            if (probe.Succeeded)
            {
                return V2;
            }
        }

        return OnPath("docker-compose", variable) is not null
            ? V1
            : throw new DsoException("neither 'docker compose' (v2) nor 'docker-compose' (v1) is installed; install one (Debian: apt-get install docker-compose)");
    }

    /// <summary>The default image name compose gives a service that only has build:.</summary>
    public string BuiltImageName(string project, string service) => IsV1 ? $"{project}_{service}" : $"{project}-{service}";

    /// <summary>
    /// The full argument list: compose's global flags for the project, then the subcommand and its
    /// arguments. <paramref name="rendered"/> replaces the project's files (and the override) with one
    /// document DSO rendered.
    /// </summary>
    public IReadOnlyList<string> Arguments(ComposeProject project, string? overrideFile, string subcommand, IEnumerable<string> subcommandArguments, string? rendered = null)
    {
        var args = new List<string>(Prefix) { "-p", project.Name, "--project-directory", project.Directory };
        if (rendered is not null)
        {
            overrideFile = null;
        }

        foreach (var file in rendered is null ? project.Files : [rendered])
        {
            args.Add("-f");
            args.Add(file);
        }

        if (overrideFile is not null)
        {
            args.Add("-f");
            args.Add(overrideFile);
        }

        if (project.EnvFile is not null)
        {
            args.Add("--env-file");
            args.Add(project.EnvFile);
        }

        foreach (var profile in project.ActiveProfiles)
        {
            args.Add("--profile");
            args.Add(profile);
        }

        args.Add(subcommand);
        args.AddRange(subcommandArguments);
        return args;
    }

    private static string? OnPath(string program, Func<string, string?> variable) => ProgramPath.Find(program, variable("PATH"));
}
