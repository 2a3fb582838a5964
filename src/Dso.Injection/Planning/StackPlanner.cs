using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.References;

namespace Dso.Injection.Planning;

/// <summary>
/// Plans a stack (spec 4.4 steps 1–2): collects its references, inspects the images of the
/// services that use them (in parallel; missing images are pulled or built first) and works out
/// who owns each service's files.
/// </summary>
internal sealed class StackPlanner(IImageInspector images)
{
    /// <param name="project">The loaded compose project.</param>
    /// <param name="ensureImages">Called with the services whose image the engine lacks (pull or build them); then they are inspected again.</param>
    /// <param name="builtImageName">The image name compose gives a service that has only build:.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<StackPlan> PlanAsync(
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
            return new StackPlan(project, [], warnings);
        }

        var services = references.Keys.Select(name => project.Find(name)!).ToList();
        var configs = await InspectImagesAsync(services, ensureImages, builtImageName, cancellationToken);
        var plans = new List<ServicePlan>();
        foreach (var service in services)
        {
            var owner = ServiceOwner.Resolve(service, configs[service.Name].User);
            if (owner.Warning is not null)
            {
                warnings.Add(owner.Warning);
            }

            plans.Add(new ServicePlan(service, references[service.Name], owner, configs[service.Name]));
        }

        return new StackPlan(project, plans, warnings);
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
