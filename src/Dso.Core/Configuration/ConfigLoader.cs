using System.Net;
using Dso.Secrets;
using Dso.Yaml;

namespace Dso.Configuration;

/// <summary>
/// Finds and loads dso.yaml: `--config`, else ./dso.yaml, ~/.config/dso/dso.yaml, /etc/dso/dso.yaml;
/// none found means defaults. `${ENV}` is expanded from the environment; keys are strict.
/// </summary>
internal static class ConfigLoader
{
    public const string FileName = "dso.yaml";

    public static LoadedConfig Load(string? explicitPath, Func<string, string?> variable, string workingDirectory)
    {
        var path = Find(explicitPath, variable, workingDirectory);
        if (path is null)
        {
            return new LoadedConfig(new DsoConfig(), null);
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DsoException($"cannot read {path}: {e.Message}");
        }

        return Parse(path, text, variable);
    }

    /// <summary>dso.yaml's text, checked as <see cref="Load"/> checks a file (before a command writes one).</summary>
    public static LoadedConfig Parse(string path, string text, Func<string, string?> variable)
    {
        var interpolator = new Interpolator(new EnvironmentVariables(variable));
        try
        {
            var config = string.IsNullOrWhiteSpace(text) ? new DsoConfig() : ConfigBinder.Bind<DsoConfig>(YamlReader.Load(path, text, interpolator));
            Validate(config, Path.GetFileName(path), variable);
            return new LoadedConfig(config, path) { Mask = interpolator.Mask };
        }
        catch (DsoException e)
        {
            // A message about a value quotes it: one an environment variable gave is shown as ${NAME}.
            throw new DsoException(interpolator.Mask(e.Message), e);
        }
    }

    public static string? Find(string? explicitPath, Func<string, string?> variable, string workingDirectory)
    {
        if (explicitPath is not null)
        {
            var full = Path.GetFullPath(explicitPath, workingDirectory);
            return File.Exists(full) ? full : throw new DsoException($"--config {full}: no such file");
        }

        var home = variable("HOME");
        var candidates = new List<string> { Path.Combine(workingDirectory, FileName) };
        if (home is not null)
        {
            candidates.Add(Path.Combine(variable("XDG_CONFIG_HOME") ?? Path.Combine(home, ".config"), "dso", FileName));
        }

        candidates.Add(Path.Combine("/etc/dso", FileName));
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>The provider for references without `NAME:`; null when the configuration leaves it open.</summary>
    public static string? DefaultProvider(DsoConfig config) =>
        config.Defaults.Provider
        ?? (config.Providers.Count == 0 || config.Providers.ContainsKey("local") ? "local"
            : config.Providers.Count == 1 ? config.Providers.Keys.Single() : null);

    private static void Validate(DsoConfig config, string file, Func<string, string?> variable)
    {
        if (config.Provider is { } single)
        {
            var name = single.Type ?? throw new DsoException($"{file}: provider has no type (one of local, file, vault, aws, azure, huawei, plugin)");
            if (!config.Providers.TryAdd(name, single))
            {
                throw new DsoException($"{file}: provider (type {name}) and providers.{name} both define a provider named {name}; keep one (providers: is the full form)");
            }

            config.Provider = null;
        }

        foreach (var (name, provider) in config.Providers)
        {
            if (provider.Type is null)
            {
                throw new DsoException($"{file}: providers.{name} has no type (one of local, file, vault, aws, azure, huawei, plugin)");
            }

            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'))
            {
                throw new DsoException($"{file}: provider name '{name}' must be lowercase letters, digits, '_' or '-' (it is written in references as dso://{name}:path)");
            }

            if (provider.Type == "file" && provider.Path is null)
            {
                throw new DsoException($"{file}: providers.{name} (type file) needs path: the JSON file of secret path → value");
            }

            ValidateProvider(name, provider, file, variable);
        }

        if (config.Defaults.Provider is { } chosen && chosen != "local" && !config.Providers.ContainsKey(chosen))
        {
            throw new DsoException($"{file}: defaults.provider '{chosen}' is not one of the configured providers ({string.Join(", ", config.Providers.Keys)})");
        }

        ValidateRotation(config, file);
        ValidateSecretDriver(config.Agent.SecretDriver, file);
        ValidateRealms(config, file);
        var address = ParseAddress(config.Agent.Api.Address, file);
        if (!IPAddress.IsLoopback(address.Address) && string.IsNullOrEmpty(config.Agent.Api.Token))
        {
            throw new DsoException($"{file}: agent.api.address {config.Agent.Api.Address} is not loopback, so agent.api.token must be set (anyone who can reach it could read status and trigger work)");
        }
    }

    private static void ValidateRealms(DsoConfig config, string file)
    {
        foreach (var (pattern, realm) in config.Realms)
        {
            var where = $"{file}: realms.\"{SecretReference.Printable(pattern)}\"";
            if (Dso.Secrets.SecretsEngineId.PatternProblem(pattern) is { } problem)
            {
                throw new DsoException($"{where}: {problem}");
            }

            if (realm.Provider is { } provider && provider != "local" && !config.Providers.ContainsKey(provider))
            {
                throw new DsoException($"{where}.provider '{SecretReference.Printable(provider)}' is not one of the configured providers ({string.Join(", ", config.Providers.Keys.Append("local").Distinct())})");
            }

            if (realm.Path is { } path && !SecretReference.TryParse(SecretReference.EnvScheme + path, out _, out var pathProblem))
            {
                throw new DsoException($"{where}.path '{SecretReference.Printable(path)}' is not a provider path DSO can use: {pathProblem}");
            }

            if (realm.Path is { } plain && plain.IndexOfAny([':', '#', '@', '?']) >= 0)
            {
                throw new DsoException($"{where}.path '{SecretReference.Printable(plain)}' must be a provider path only (letters, digits, '.', '_', '-', '+', '=' and '/'): the provider goes in provider:, and the rest of each id is appended to the path");
            }
        }

        if (config.Agent.SecretsEngine.Socket is { Length: > 0 } socket && !socket.StartsWith('/'))
        {
            throw new DsoException($"{file}: agent.secrets_engine.socket '{SecretReference.Printable(socket)}' must be an absolute path (or \"\" to serve no resolver API)");
        }

        if (config.Agent.SecretsEngine.Socket is { Length: > 0 } same && SameSocket(same, config.Agent.Socket, config.Agent.SecretDriver.Socket) is { } other)
        {
            throw new DsoException($"{file}: agent.secrets_engine.socket is {same}, which is already the {other}; give it a path of its own");
        }
    }

    /// <summary>Which other socket key names the same file as <paramref name="socket"/> (compared as full paths), or null.</summary>
    private static string? SameSocket(string socket, string agentSocket, string driverSocket)
    {
        var full = Path.GetFullPath(socket);
        return full == Path.GetFullPath(agentSocket) ? "agent.socket"
            : driverSocket.Length > 0 && full == Path.GetFullPath(driverSocket) ? "agent.secret_driver.socket"
            : null;
    }

    private static void ValidateSecretDriver(SecretDriverConfig driver, string file)
    {
        if (driver.Socket.Length == 0)
        {
            return;
        }

        var name = driver.DriverName!;
        if (Path.GetDirectoryName(driver.Socket) != SecretDriverConfig.PluginDirectory || !driver.Socket.EndsWith(".sock", StringComparison.Ordinal)
            || name.Length == 0 || !char.IsAsciiLetterLower(name[0]) || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.'))
        {
            throw new DsoException($"{file}: agent.secret_driver.socket '{driver.Socket}' must be {SecretDriverConfig.PluginDirectory}/NAME.sock with NAME in lower-case letters, digits, '.', '_' or '-' (Docker finds plugins there by name), or \"\" to turn the driver off");
        }
    }

    private static readonly Dictionary<string, string[]> ProviderOptions = new(StringComparer.Ordinal)
    {
        ["vault"] = ["mount", "kv_version", "namespace", "ca_file"],
        ["azure"] = ["ca_file", "verify_challenge_resource"],
        ["huawei"] = ["project_id", "ca_file"],
    };

    private static readonly Dictionary<string, string[]> AuthMethods = new(StringComparer.Ordinal)
    {
        ["vault"] = ["token", "approle", "iam_role"],
        ["aws"] = ["default", "iam_role", "env", "profile", "static"],
        ["azure"] = ["default", "managed_identity", "workload_identity", "client_secret", "client_certificate", "cli", "env"],
        ["huawei"] = ["aksk", "ecs_agency"],
    };

    /// <summary>The auth.params each (type, method) cannot run without; `a|b` is either.</summary>
    private static readonly Dictionary<(string Type, string Method), string[]> RequiredParams = new()
    {
        [("vault", "approle")] = ["role_id", "secret_id_file|secret_id"],
        [("aws", "static")] = ["access_key_id", "secret_access_key"],
        [("aws", "profile")] = ["profile"],
        [("azure", "client_secret")] = ["tenant_id", "client_id", "client_secret_file"],
        [("azure", "client_certificate")] = ["tenant_id", "client_id", "certificate_file"],
    };

    private static void ValidateProvider(string name, ProviderConfig provider, string file, Func<string, string?> variable)
    {
        var type = provider.Type!;
        var where = $"{file}: providers.{name}";
        var allowed = ProviderOptions.GetValueOrDefault(type, []);
        if (provider.Options.Keys.FirstOrDefault(k => !allowed.Contains(k)) is { } unknown)
        {
            throw new DsoException(allowed.Length == 0
                ? $"{where}.options.{unknown}: type {type} takes no options"
                : $"{where}.options.{unknown} is not an option of type {type} (known: {string.Join(", ", allowed)})");
        }

        if (provider.Auth.Method is { } method && AuthMethods.TryGetValue(type, out var methods) && !methods.Contains(method))
        {
            throw new DsoException($"{where}.auth.method '{method}' is not one of {string.Join(", ", methods)}");
        }

        if (provider.Options.TryGetValue("verify_challenge_resource", out var verify) && verify is not ("true" or "false"))
        {
            throw new DsoException($"{where}.options.verify_challenge_resource must be \"true\" or \"false\", not '{verify}'");
        }

        if (provider.Options.TryGetValue("kv_version", out var kv) && kv is not ("1" or "2"))
        {
            throw new DsoException($"{where}.options.kv_version must be 1 or 2, not '{kv}'");
        }

        // Vault's own tools read VAULT_ADDR when nothing names the server; so does a vault provider.
        if (type == "vault" && provider.Endpoint is null && !provider.Auth.Params.ContainsKey("address") && variable("VAULT_ADDR") is { Length: > 0 } vaultAddress)
        {
            provider.Endpoint = vaultAddress;
        }

        var address = provider.Endpoint ?? (type == "vault" ? provider.Auth.Params.GetValueOrDefault("address") : null);
        if (address is not null && (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            throw new DsoException($"{where}: '{address}' is not an http(s) URL (write it as https://host:port)");
        }

        if (type == "vault" && address is null)
        {
            throw new DsoException($"{where} (type vault) needs endpoint: the Vault address (https://vault.example.com:8200), or VAULT_ADDR in the environment");
        }

        if (type is "aws" && provider.Region is null)
        {
            throw new DsoException($"{where} (type aws) needs region: the region of the secrets (for example us-east-1)");
        }

        if (type is "huawei" && provider.Region is null && address is null)
        {
            throw new DsoException($"{where} (type huawei) needs region: (for example cn-north-4) or endpoint:");
        }

        if (RequiredParams.GetValueOrDefault((type, provider.Auth.Method ?? "")) is { } required)
        {
            foreach (var need in required)
            {
                // The key must be there; its value may come from a variable only the agent's environment sets.
                if (!need.Split('|').Any(provider.Auth.Params.ContainsKey))
                {
                    throw new DsoException($"{where}.auth.params.{need.Replace("|", " (or ", StringComparison.Ordinal)}{(need.Contains('|', StringComparison.Ordinal) ? ")" : "")} is required for auth.method {provider.Auth.Method}");
                }
            }
        }

        if (type == "azure" && (address is null || !address.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            throw new DsoException($"{where} (type azure) needs endpoint: the vault's https URL (https://NAME.vault.azure.net)");
        }

        if (type == "plugin" && string.IsNullOrWhiteSpace(provider.Command))
        {
            throw new DsoException($"{where} (type plugin) needs command: the plugin executable");
        }

        if (type != "plugin" && (provider.Command is not null || provider.Args.Count > 0 || provider.Protocol is not null))
        {
            throw new DsoException($"{where}: command, args and protocol are for type plugin only");
        }

        if (provider.Env.FirstOrDefault(e => e.Length == 0 || !e.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) is { } badName)
        {
            throw new DsoException($"{where}.env: '{badName}' is not an environment variable name");
        }

        if (provider.Env.FirstOrDefault(Processes.ChildEnvironment.IsWithheld) is { } credential)
        {
            throw new DsoException($"{where}.env: {credential} unlocks the local vault and is never passed to a provider's process; remove it from the list");
        }

        if (provider.Timeout <= TimeSpan.Zero || provider.Circuit.Failures < 1 || provider.Circuit.OpenFor <= TimeSpan.Zero || provider.Retry.Attempts < 1)
        {
            throw new DsoException($"{where}: timeout and circuit.open_for must be positive, circuit.failures and retry.attempts at least 1");
        }
    }

    private static void ValidateRotation(DsoConfig config, string file)
    {
        var sections = new List<(string Path, RotationConfig? Rotation)> { ("agent.rotation", config.Agent.Rotation), ("defaults.rotation", config.Defaults.Rotation), ("rotation", config.Rotation) };
        sections.AddRange(config.Secrets.Select((s, i) => ($"secrets[{i}].rotation", s.Rotation)));
        foreach (var (path, rotation) in sections)
        {
            if (rotation?.Signal is { } signal && SignalName.Normalize(signal) is null)
            {
                throw new DsoException($"{file}: {path}.signal '{signal}' is not {SignalName.Expected}");
            }
        }

        var agent = config.Agent;
        if (agent.MaxConcurrentRotations < 1)
        {
            throw new DsoException($"{file}: agent.max_concurrent_rotations must be at least 1 (it is {agent.MaxConcurrentRotations})");
        }

        if (agent.Watch.BackoffLimit < 1)
        {
            throw new DsoException($"{file}: agent.watch.backoff_limit must be at least 1 (1 turns the backoff off; it is {agent.Watch.BackoffLimit})");
        }

        if (agent.Watch.Jitter is < 0 or > 50)
        {
            throw new DsoException($"{file}: agent.watch.jitter must be a percentage from 0 to 50 (it is {agent.Watch.Jitter})");
        }

        if (agent.Watch.PollingInterval < TimeSpan.FromSeconds(1))
        {
            throw new DsoException($"{file}: agent.watch.polling_interval must be at least 1s (it is {Duration.Format(agent.Watch.PollingInterval)})");
        }

        for (var i = 0; i < config.Notifications.Webhooks.Count; i++)
        {
            var url = config.Notifications.Webhooks[i].Url;
            if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new DsoException($"{file}: notifications.webhooks[{i}].url must be an http:// or https:// address");
            }
        }
    }

    public static IPEndPoint ParseAddress(string address, string file) =>
        IPEndPoint.TryParse(address, out var endpoint) && endpoint.Port > 0
            ? endpoint
            : throw new DsoException($"{file}: agent.api.address '{address}' is not host:port with a numeric IP (e.g. 127.0.0.1:8471)");

    /// <summary>The environment as the interpolator's variable table.</summary>
    private sealed class EnvironmentVariables(Func<string, string?> variable) : IReadOnlyDictionary<string, string>
    {
        public int Count => 0;

        public IEnumerable<string> Keys => [];

        public IEnumerable<string> Values => [];

        public string this[string key] => variable(key) ?? throw new KeyNotFoundException(key);

        public bool ContainsKey(string key) => variable(key) is not null;

        public bool TryGetValue(string key, out string value)
        {
            value = variable(key)!;
            return value is not null;
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => Enumerable.Empty<KeyValuePair<string, string>>().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
