using Dso.Configuration;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Ipc;
using Dso.Secrets;

namespace Dso.Agent.Projects;

/// <summary>
/// What a project registration must be before the agent acts on it (it comes over the socket:
/// nothing in it is trusted), and what the agent reads from one: its references parsed, and the
/// first provider it needs that dso.yaml does not define.
/// </summary>
internal static class RegistrationRules
{
    /// <summary>
    /// The first reference of <paramref name="services"/> whose provider is not among
    /// <paramref name="names"/> (references without one use <paramref name="defaultName"/>), as a
    /// phrase naming service, variable and provider; null when every one is there.
    /// </summary>
    public static string? FirstMissingProvider(IEnumerable<ServiceRegistration> services, IEnumerable<string> names, string? defaultName)
    {
        var known = new HashSet<string>(names, StringComparer.Ordinal);
        foreach (var service in services)
        {
            foreach (var reference in service.References)
            {
                if (!SecretReference.TryParse(reference.Reference, out var parsed, out _))
                {
                    continue;
                }

                if ((parsed.Provider ?? defaultName) is not { } provider)
                {
                    return $"service '{service.Name}' ({reference.Variable}) names no provider, and dso.yaml has no default one (set defaults.provider)";
                }

                if (!known.Contains(provider))
                {
                    return $"service '{service.Name}' ({reference.Variable}) uses provider '{provider}', which dso.yaml does not define";
                }
            }
        }

        return null;
    }

    /// <summary>The references of a service as the resolver takes them.</summary>
    public static IReadOnlyList<ServiceReference> ReferencesOf(ServiceRegistration service) =>
        [.. Parsed(service).Select(p => new ServiceReference(service.Name, p.Registration.Variable, p.Registration.Reference, p.Parsed ?? SecretReference.Parse(p.Registration.Reference), p.Registration.Where))];

    /// <summary>
    /// A service's references with each one parsed (null where the text does not parse), once per
    /// registration: the change detector's passes, status and rotations read them many times a minute.
    /// </summary>
    public static IReadOnlyList<(ReferenceRegistration Registration, SecretReference? Parsed)> Parsed(ServiceRegistration service) =>
        ParsedCache.GetValue(service, s => [.. s.References.Select(r => (r, SecretReference.TryParse(r.Reference, out var parsed, out _) ? parsed : null))]);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ServiceRegistration, IReadOnlyList<(ReferenceRegistration, SecretReference?)>> ParsedCache = [];

    /// <summary>Checks a registration from the wire: every field there, names that become paths, references, rotation settings.</summary>
    public static void Validate(ProjectRegistration registration)
    {
        if (MissingField(registration) is { } missing)
        {
            throw new DsoException($"the registration has no {missing}");
        }

        // Names become paths (state file, RAM directory): only compose's own name characters.
        if (!ValidName(registration.Name, allowUpper: false))
        {
            throw new DsoException($"'{registration.Name}' is not a compose project name (lowercase letters, digits, '_' and '-')");
        }

        if (registration.Kind is { } kind && kind is not (ProjectRegistration.ComposeKind or ProjectRegistration.SwarmKind))
        {
            throw new DsoException($"project {registration.Name}: kind '{kind}' is not {ProjectRegistration.ComposeKind} or {ProjectRegistration.SwarmKind}");
        }

        if (registration.Services.FirstOrDefault(s => !ValidName(s.Name, allowUpper: true)) is { } badService)
        {
            throw new DsoException($"'{badService.Name}' is not a compose service name (letters, digits, '_', '.' and '-')");
        }

        if (registration.Services.Count == 0)
        {
            throw new DsoException($"project {registration.Name} registers no services");
        }

        foreach (var service in registration.Services)
        {
            if (service.Uid < 0 || service.Gid < 0)
            {
                throw new DsoException($"service {service.Name}: uid and gid must not be negative");
            }

            var parsed = new List<(string Variable, SecretReference Reference)>();
            foreach (var reference in service.References)
            {
                if (!SecretReference.TryParse(reference.Reference, out var one, out var problem))
                {
                    throw new DsoException($"{reference.Where}: service {service.Name}, {reference.Variable}: invalid reference '{SecretReference.Printable(reference.Reference)}': {SecretReference.Printable(problem, 400)}");
                }

                if (reference.Rotation is { } own && RotationProblem(own.Strategy, own.Signal) is { } rotationProblem)
                {
                    throw new DsoException($"{reference.Where}: service {service.Name}, {reference.Variable}: {rotationProblem}");
                }

                if (reference.SecretsEngineId is { } id && SecretsEngineId.IdProblem(id) is { } idProblem)
                {
                    throw new DsoException($"{reference.Where}: service {service.Name}, {reference.Variable}: se://{SecretReference.Printable(id)}: {idProblem}");
                }

                parsed.Add((reference.Variable, one));
            }

            if (SecretReference.FileNameClash(parsed) is var (index, clash))
            {
                throw new DsoException($"{service.References[index].Where}: service {service.Name}: {clash}");
            }

            ValidateRotation(service);
        }
    }

    /// <summary>A field the wire left out (JSON may omit what the record says is never null).</summary>
    private static string? MissingField(ProjectRegistration registration)
    {
        if (registration.Name is null || registration.Directory is null || registration.Files is null || registration.Services is null)
        {
            return "name, directory, files or services";
        }

        foreach (var service in registration.Services)
        {
            if (service?.Name is null || service.References is null)
            {
                return "service name or references";
            }

            if (service.References.Any(r => r?.Variable is null || r.Reference is null || r.Where is null)
                || service.Rotation is { } rotation && (rotation.Ports is null || rotation.DependsOn is null || rotation.Ports.Any(p => p?.HostIp is null || p.Source is null || p.Where is null)))
            {
                return $"variable, reference or where in a reference of service {service.Name}, or ports in its rotation";
            }
        }

        return null;
    }

    private static void ValidateRotation(ServiceRegistration service)
    {
        if (service.Rotation is not { } rotation)
        {
            return;
        }

        if (RotationProblem(rotation.Strategy, rotation.Signal) is { } problem)
        {
            throw new DsoException($"service {service.Name}: {problem}");
        }

        if (rotation.Probe is { } probe && RotationLabels.ProbeProblem(probe) is { } probeProblem)
        {
            throw new DsoException($"service {service.Name}: probe '{probe}' {probeProblem}");
        }

        foreach (var port in rotation.Ports)
        {
            if (port.HostPort is < 1 or > 65535 || port.ContainerPort is < 1 or > 65535 || !System.Net.IPAddress.TryParse(port.HostIp, out _)
                || port.Source is not (PortRegistration.FromCompose or PortRegistration.FromLabel))
            {
                throw new DsoException($"service {service.Name}: port {port.HostIp}:{port.HostPort}->{port.ContainerPort} ({port.Source}) is not a valid host address, port pair and source");
            }
        }
    }

    /// <summary>A strategy that is not one of the agent's, or a signal not in its normal form (of a service, or of one reference's dso.yaml entry).</summary>
    private static string? RotationProblem(string? strategy, string? signal) =>
        strategy is not null && !RotationDefaults.Strategies.Contains(strategy, StringComparer.Ordinal)
            ? $"strategy '{strategy}' is not one of {string.Join(", ", RotationDefaults.Strategies)}"
            : signal is not null && SignalName.Normalize(signal) != signal
                ? $"'{signal}' is not {SignalName.Expected}"
                : null;

    private static bool ValidName(string name, bool allowUpper) =>
        name.Length is > 0 and <= 128 && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || (allowUpper && char.IsAsciiLetterUpper(c)) || c is '_' or '-' || (allowUpper && c == '.'));
}
