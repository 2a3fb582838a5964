using System.Security.Cryptography;
using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.References;
using Dso.Injection.Secrets;
using Dso.Providers;

namespace Dso.Injection.Planning;

/// <summary>
/// Everything `up` does before compose runs (spec 4.4): collect the references, resolve them all
/// (fail before touching anything), materialize each service's secrets in the RAM directory, and
/// write the override that runs dso-init before the original entrypoint.
/// </summary>
internal sealed class StackPreparer(
    ProviderRegistry providers,
    SecretStore store,
    IImageInspector images,
    FingerprintKey fingerprints,
    string launcherPath)
{
    public const string SecretsMountPath = "/run/secrets/dso";
    public const string LauncherMountPath = "/.dso/dso-init";

    /// <param name="project">The loaded compose project.</param>
    /// <param name="ensureImages">Called with the services whose image the engine lacks (pull or build them); then they are inspected again.</param>
    /// <param name="builtImageName">The image name compose gives a service that has only build:.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<PreparedStack> PrepareAsync(
        ComposeProject project,
        Func<IReadOnlyList<ComposeService>, Task> ensureImages,
        Func<string, Task<string>> builtImageName,
        CancellationToken cancellationToken)
    {
        var warnings = new List<string>(project.Warnings);
        warnings.AddRange(PlaintextFinder.Find(project).Where(f => f.Mistyped).Select(f => f.Message));
        var references = ReferenceCollector.Collect(project);
        if (references.Count == 0)
        {
            return new PreparedStack(null, [], 0, warnings);
        }

        var services = references.Keys.Select(name => project.Find(name)!).ToList();
        var configs = await InspectImagesAsync(services, ensureImages, builtImageName, cancellationToken);
        using var values = await ReferenceResolver.ResolveAsync(references.Values.SelectMany(r => r), providers, cancellationToken);

        var overrides = new List<ServiceOverride>();
        foreach (var service in services)
        {
            var config = configs[service.Name];
            var owner = ServiceOwner.Resolve(service, config.User);
            if (owner.Warning is not null)
            {
                warnings.Add(owner.Warning);
            }

            var files = ServiceMaterial.Build(references[service.Name], values, owner);
            string hostDirectory;
            try
            {
                hostDirectory = store.Materialize(project.Name, service.Name, files);
            }
            finally
            {
                foreach (var file in files)
                {
                    CryptographicOperations.ZeroMemory(file.Content);
                }
            }

            overrides.Add(new ServiceOverride(
                service.Name,
                [LauncherMountPath, "--", .. service.Entrypoint ?? config.Entrypoint ?? []],
                service.Entrypoint is null && service.Command is null ? config.Command : null,
                [$"{hostDirectory}:{SecretsMountPath}:ro", $"{launcherPath}:{LauncherMountPath}:ro"],
                new Dictionary<string, string>
                {
                    ["dso.managed"] = "true",
                    ["dso.project"] = project.Name,
                    ["dso.service"] = service.Name,
                    ["dso.fingerprint"] = fingerprints.Fingerprint(references[service.Name], values),
                }));
        }

        var overrideFile = store.WritePrivate(project.Name, $".compose-override-{Environment.ProcessId}.yml", OverrideWriter.Write(project.FileFormatVersion, overrides));
        return new PreparedStack(overrideFile, [.. overrides.Select(o => o.Service)], values.Count, warnings);
    }

    private async Task<Dictionary<string, ImageConfig>> InspectImagesAsync(
        List<ComposeService> services,
        Func<IReadOnlyList<ComposeService>, Task> ensureImages,
        Func<string, Task<string>> builtImageName,
        CancellationToken cancellationToken)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            names[service.Name] = await ImageOfAsync(service, builtImageName);
        }

        var found = await Task.WhenAll(services.Select(s => images.InspectAsync(names[s.Name], cancellationToken)));
        var configs = services.Zip(found).Where(p => p.Second is not null).ToDictionary(p => p.First.Name, p => p.Second!, StringComparer.Ordinal);
        var missing = services.Where(s => !configs.ContainsKey(s.Name)).ToList();
        if (missing.Count > 0)
        {
            await ensureImages(missing);
            foreach (var service in missing)
            {
                configs[service.Name] = await images.InspectAsync(names[service.Name], cancellationToken)
                    ?? throw new DsoException($"{service.Where}: image {names[service.Name]} of service {service.Name} is not on this engine and could not be pulled or built");
            }
        }

        return configs;
    }

    private static async Task<string> ImageOfAsync(ComposeService service, Func<string, Task<string>> builtImageName) =>
        service.Image ?? (service.HasBuild
            ? await builtImageName(service.Name)
            : throw new DsoException($"{service.Where}: service {service.Name} has neither image: nor build:"));
}
