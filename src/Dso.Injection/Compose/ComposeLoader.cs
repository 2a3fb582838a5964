using Dso.DotEnv;
using Dso.Yaml;

namespace Dso.Injection.Compose;

/// <summary>
/// Loads a compose project the way Compose does, for what DSO needs: which files (`-f`,
/// COMPOSE_FILE, else compose.yaml/docker-compose.yml and its override found from the working
/// directory up), the project directory and name, `.env` interpolation, profiles, `include:` (Compose
/// 2.20+: each included file loaded as a project of its own — its directory, its `.env` — whose
/// services join this one), and each service's image, entrypoint, command, environment (with
/// env_file) and labels.
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
        var masks = new List<Interpolator> { interpolator };
        try
        {
            var documents = files.Select(f => (Path: f, Root: YamlReader.Load(f, ReadFile(f), interpolator))).ToList();
            var sources = Includes(documents, environment, masks, [.. files])
                .Concat(documents.Select(d => new Source(d.Path, d.Root, variables, interpolator, Included: false)))
                .ToList();
            var services = MergeServices(sources);
            var name = ProjectName(options.ProjectName, variables, documents, projectDirectory);
            var profiles = options.Profiles.Count > 0
                ? options.Profiles
                : (variables.GetValueOrDefault("COMPOSE_PROFILES") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var version = documents.Select(d => (d.Root["version"] as YScalar)?.Value).LastOrDefault(v => v is not null);
            return new ComposeProject(name, projectDirectory, files, envFile, version, services, [.. profiles], [.. masks.SelectMany(m => m.Warnings)]) { Mask = Mask(masks) };
        }
        catch (DsoException e)
        {
            throw new DsoException(Mask(masks)(e.Message), e);
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

    private static Func<string, string> Mask(IReadOnlyList<Interpolator> interpolators) =>
        message => interpolators.Aggregate(message, (text, interpolator) => interpolator.Mask(text));

    /// <summary>One compose file as services are merged from it: its variables (an included file has its own) and whether an `include:` brought it in.</summary>
    private sealed record Source(string Path, YMap Root, IReadOnlyDictionary<string, string> Variables, Interpolator Interpolator, bool Included);

    /// <summary>
    /// The files the `include:` entries of <paramref name="documents"/> name, loaded as Compose does:
    /// each entry a project of its own (`path` — one or a list — relative to the including file,
    /// `project_directory`, `env_file`; its `.env` by default), its own includes first. A file
    /// included twice, or including itself, is an error.
    /// </summary>
    private static List<Source> Includes(List<(string Path, YMap Root)> documents, IReadOnlyDictionary<string, string> environment, List<Interpolator> masks, HashSet<string> seen)
    {
        var sources = new List<Source>();
        foreach (var (path, root) in documents)
        {
            if (root["include"] is not { } node || node is YScalar { Value: null })
            {
                continue;
            }

            var entries = node as YSeq ?? throw new DsoException($"{node.Where}: include: must be a list of files (or of mappings with path:)");
            var directory = Path.GetDirectoryName(path)!;
            foreach (var entry in entries.Items)
            {
                var (paths, projectDirectory, envFiles) = IncludeEntry(entry, directory);
                var includedDirectory = projectDirectory ?? Path.GetDirectoryName(paths[0])!;
                var variables = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var envFile in envFiles.Count > 0 ? envFiles : [Path.Combine(includedDirectory, ".env")])
                {
                    if (envFiles.Count > 0 && !File.Exists(envFile))
                    {
                        throw new DsoException($"{entry.Where}: include: env_file {envFile} does not exist");
                    }

                    foreach (var (key, value) in MergeVariables(File.Exists(envFile) ? envFile : null, new Dictionary<string, string>()))
                    {
                        variables[key] = value;
                    }
                }

                foreach (var (key, value) in environment)
                {
                    variables[key] = value;
                }

                var interpolator = new Interpolator(variables);
                masks.Add(interpolator);
                var included = new List<(string Path, YMap Root)>();
                foreach (var file in paths)
                {
                    if (!seen.Add(file))
                    {
                        throw new DsoException($"{entry.Where}: include: {file} is included twice (or includes itself)");
                    }

                    included.Add((file, YamlReader.Load(file, ReadFile(file), interpolator)));
                }

                sources.AddRange(Includes(included, environment, masks, seen));
                sources.AddRange(included.Select(d => new Source(d.Path, d.Root, variables, interpolator, Included: true)));
            }
        }

        return sources;
    }

    private static (List<string> Paths, string? ProjectDirectory, List<string> EnvFiles) IncludeEntry(YNode entry, string directory)
    {
        string Full(YNode node, string what) => node is YScalar { Value: { Length: > 0 } value }
            ? Path.GetFullPath(value, directory)
            : throw new DsoException($"{node.Where}: include: {what} must be a path");
        List<string> Paths(YNode node, string what) => node is YSeq list ? [.. list.Items.Select(i => Full(i, what))] : [Full(node, what)];

        var (paths, projectDirectory, envFiles) = entry switch
        {
            YScalar => (Paths(entry, "an entry"), null, new List<string>()),
            YMap map when map["path"] is { } path => (
                Paths(path, "path"),
                map["project_directory"] is { } project ? Full(project, "project_directory") : null,
                map["env_file"] is { } env ? Paths(env, "env_file") : []),
            _ => throw new DsoException($"{entry.Where}: include: each entry is a file, or a mapping with path: (and project_directory:, env_file:)"),
        };
        return paths.FirstOrDefault(p => !File.Exists(p)) is { } missing
            ? throw new DsoException($"{entry.Where}: include: {missing} does not exist")
            : (paths, projectDirectory, envFiles);
    }

    private static List<ComposeService> MergeServices(List<Source> sources)
    {
        var merged = new Dictionary<string, ServiceBuilder>(StringComparer.Ordinal);
        var included = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        var loaded = sources.ToDictionary(d => d.Path, d => d.Root, StringComparer.Ordinal);
        foreach (var source in sources)
        {
            foreach (var (name, definition) in ServicesOf(source.Root))
            {
                if (!merged.TryGetValue(name, out var builder))
                {
                    builder = new ServiceBuilder(name, definition.Where);
                    merged[name] = builder;
                    order.Add(name);
                }
                else if (included.TryGetValue(name, out var from) && (source.Included || source.Root["include"] is not null))
                {
                    // Compose: an included service may be changed by a later -f file, not defined again by a project that includes it.
                    throw new DsoException($"{definition.Where}: service {name} is already defined by the included file {from}; change it in an override file (-f) instead");
                }

                if (source.Included)
                {
                    included.TryAdd(name, source.Path);
                }

                foreach (var (file, part) in ExtendsChain(source.Path, name, definition, loaded, source.Interpolator, []))
                {
                    builder.Apply(part, Path.GetDirectoryName(file)!, source.Variables);
                }
            }
        }

        if (order.Count == 0)
        {
            throw new DsoException($"{string.Join(", ", sources.Select(d => Path.GetFileName(d.Path)))}: no services defined");
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
