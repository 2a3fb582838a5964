using Dso.DotEnv;
using Dso.Yaml;

namespace Dso.Injection.Compose;

/// <summary>
/// Loads a compose project the way Compose does, for what DSO needs: which files (`-f`,
/// COMPOSE_FILE, else compose.yaml/docker-compose.yml and its override found from the working
/// directory up), the project directory and name, `.env` interpolation, profiles, and each
/// service's image, entrypoint, command, environment (with env_file) and labels.
/// </summary>
internal static class ComposeLoader
{
    private static readonly string[] YamlExtensions = [".yaml", ".yml"];
    private static readonly string[] DefaultFiles = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

    public static ComposeProject Load(ComposeOptions options, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var projectDirectoryHint = options.ProjectDirectory is null ? null : Path.GetFullPath(options.ProjectDirectory, workingDirectory);
        var envFile = ResolveEnvFile(options.EnvFile, projectDirectoryHint ?? workingDirectory, workingDirectory);
        var variables = MergeVariables(envFile, environment);
        var files = FindFiles(options.Files, variables, workingDirectory);
        var projectDirectory = projectDirectoryHint ?? Path.GetDirectoryName(files[0])!;
        if (options.EnvFile is null && projectDirectoryHint is null && Path.Combine(projectDirectory, ".env") != envFile)
        {
            // The env file lives in the project directory, which is only known once the files are.
            envFile = ResolveEnvFile(null, projectDirectory, workingDirectory);
            variables = MergeVariables(envFile, environment);
        }

        var interpolator = new Interpolator(variables);
        try
        {
            var documents = files.Select(f => (Path: f, Root: YamlReader.Load(f, ReadFile(f), interpolator))).ToList();
            var services = MergeServices(documents, variables, interpolator);
            var name = ProjectName(options.ProjectName, variables, documents, projectDirectory);
            var profiles = options.Profiles.Count > 0
                ? options.Profiles
                : (variables.GetValueOrDefault("COMPOSE_PROFILES") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var version = documents.Select(d => (d.Root["version"] as YScalar)?.Value).LastOrDefault(v => v is not null);
            return new ComposeProject(name, projectDirectory, files, envFile, version, services, [.. profiles], interpolator.Warnings) { Mask = interpolator.Mask };
        }
        catch (DsoException e)
        {
            throw new DsoException(interpolator.Mask(e.Message), e);
        }
    }

    /// <summary>Compose's project-name normalisation: lowercase; only a-z, 0-9, '_' and '-'; starting with a letter or digit.</summary>
    public static string NormalizeProjectName(string name)
    {
        var normalized = new string(name.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-').ToArray()).TrimStart('_', '-');
        return normalized.Length > 0
            ? normalized
            : throw new DsoException($"'{name}' gives an empty compose project name; set one with -p NAME");
    }

    private static string? ResolveEnvFile(string? option, string directory, string workingDirectory)
    {
        if (option is not null)
        {
            var path = Path.GetFullPath(option, workingDirectory);
            return File.Exists(path) ? path : throw new DsoException($"--env-file {path}: no such file");
        }

        var candidate = Path.Combine(directory, ".env");
        return File.Exists(candidate) ? candidate : null;
    }

    private static Dictionary<string, string> MergeVariables(string? envFile, IReadOnlyDictionary<string, string> environment)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (envFile is not null)
        {
            foreach (var entry in DotEnvParser.Parse(ReadFile(envFile), envFile))
            {
                variables[entry.Key] = entry.Value;
            }
        }

        foreach (var (key, value) in environment)
        {
            variables[key] = value;
        }

        return variables;
    }

    private static List<string> FindFiles(IReadOnlyList<string> given, IReadOnlyDictionary<string, string> variables, string workingDirectory)
    {
        var names = given.Count > 0
            ? given
            : variables.GetValueOrDefault("COMPOSE_FILE") is { Length: > 0 } composeFile
                ? composeFile.Split(variables.GetValueOrDefault("COMPOSE_PATH_SEPARATOR") ?? ":", StringSplitOptions.RemoveEmptyEntries)
                : null;
        if (names is not null)
        {
            return [.. names.Select(name =>
            {
                if (name == "-")
                {
                    throw new DsoException("-f - (a compose file on stdin) is not supported by docker dso; give the file's path");
                }

                var path = Path.GetFullPath(name, workingDirectory);
                return File.Exists(path) ? path : throw new DsoException($"compose file {path} does not exist");
            })];
        }

        for (var dir = new DirectoryInfo(workingDirectory); dir is not null; dir = dir.Parent)
        {
            var found = DefaultFiles.Select(f => Path.Combine(dir.FullName, f)).FirstOrDefault(File.Exists);
            if (found is null)
            {
                continue;
            }

            var stem = Path.GetFileNameWithoutExtension(found);
            var overrideFile = YamlExtensions.Select(ext => Path.Combine(dir.FullName, $"{stem}.override{ext}")).FirstOrDefault(File.Exists);
            return overrideFile is null ? [found] : [found, overrideFile];
        }

        throw new DsoException($"no compose file in {workingDirectory} or above (looked for {string.Join(", ", DefaultFiles)}); give one with -f FILE");
    }

    private static string ProjectName(string? option, IReadOnlyDictionary<string, string> variables, IEnumerable<(string Path, YMap Root)> documents, string projectDirectory)
    {
        var name = option
            ?? variables.GetValueOrDefault("COMPOSE_PROJECT_NAME")
            ?? documents.Select(d => (d.Root["name"] as YScalar)?.Value).LastOrDefault(v => !string.IsNullOrEmpty(v))
            ?? Path.GetFileName(projectDirectory.TrimEnd('/'));
        return NormalizeProjectName(name);
    }

    private static List<ComposeService> MergeServices(List<(string Path, YMap Root)> documents, IReadOnlyDictionary<string, string> variables, Interpolator interpolator)
    {
        var merged = new Dictionary<string, ServiceBuilder>(StringComparer.Ordinal);
        var order = new List<string>();
        var loaded = documents.ToDictionary(d => d.Path, d => d.Root, StringComparer.Ordinal);
        foreach (var (path, root) in documents)
        {
            foreach (var (name, definition) in ServicesOf(root))
            {
                if (!merged.TryGetValue(name, out var builder))
                {
                    builder = new ServiceBuilder(name, definition.Where);
                    merged[name] = builder;
                    order.Add(name);
                }

                foreach (var (file, part) in ExtendsChain(path, name, definition, loaded, interpolator, []))
                {
                    builder.Apply(part, Path.GetDirectoryName(file)!, variables);
                }
            }
        }

        if (order.Count == 0)
        {
            throw new DsoException($"{string.Join(", ", documents.Select(d => Path.GetFileName(d.Path)))}: no services defined");
        }

        return [.. order.Select(n => merged[n].Build())];
    }

    private static IEnumerable<(string Name, YMap Definition)> ServicesOf(YMap root)
    {
        var servicesNode = root["services"];
        if (servicesNode is null or YScalar { Value: null })
        {
            yield break;
        }

        if (servicesNode is not YMap services)
        {
            throw new DsoException($"{servicesNode.Where}: services: must be a mapping of service names to definitions");
        }

        foreach (var (name, node) in services.Entries)
        {
            yield return node is YMap definition
                ? (name, definition)
                : throw new DsoException($"{node.Where}: service {name} must be a mapping (image:, environment:, …)");
        }
    }

    /// <summary>
    /// The definitions that make up one service, base first: `extends: NAME` or
    /// `extends: {service: NAME, file: PATH}` is followed (across files, cycles refused), as
    /// Compose does before it merges successive files.
    /// </summary>
    private static List<(string File, YMap Definition)> ExtendsChain(string path, string name, YMap definition, Dictionary<string, YMap> loaded, Interpolator interpolator, HashSet<string> seen)
    {
        if (!seen.Add($"{path}\0{name}"))
        {
            throw new DsoException($"{definition.Where}: service {name} extends itself (through {string.Join(", ", seen.Select(s => s[(s.IndexOf('\0') + 1)..]))})");
        }

        var chain = new List<(string, YMap)>();
        if (ExtendsTarget(definition, name, path) is var (basePath, baseName))
        {
            if (!loaded.TryGetValue(basePath, out var baseRoot))
            {
                baseRoot = File.Exists(basePath)
                    ? YamlReader.Load(basePath, ReadFile(basePath), interpolator)
                    : throw new DsoException($"{definition["extends"]!.Where}: service {name} extends a service of {basePath}, which does not exist");
                loaded[basePath] = baseRoot;
            }

            var baseDefinition = ServicesOf(baseRoot).LastOrDefault(s => s.Name == baseName).Definition
                ?? throw new DsoException($"{definition["extends"]!.Where}: service {name} extends '{baseName}', which {Path.GetFileName(basePath)} does not define");
            chain.AddRange(ExtendsChain(basePath, baseName, baseDefinition, loaded, interpolator, seen));
        }

        chain.Add((path, definition));
        return chain;
    }

    /// <summary>The file and service an `extends:` names, or null when the service extends nothing.</summary>
    public static (string File, string Service)? ExtendsTarget(YMap definition, string name, string path) => definition["extends"] switch
    {
        null or YScalar { Value: null } => null,
        YScalar { Value: { } service } => (path, service),
        YMap map when map["service"] is YScalar { Value: { } service } => (
            map["file"] is YScalar { Value: { } file } ? Path.GetFullPath(file, Path.GetDirectoryName(path)!) : path,
            service),
        var other => throw new DsoException($"{other.Where}: extends of service {name} must be a service name or a mapping with service: (and file:)"),
    };

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DsoException($"cannot read {path}: {e.Message}");
        }
    }
}
