using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dso.Agent.Rotation;

/// <summary>
/// The engine calls rotations make: finding a service's containers, cloning one with new labels
/// (same image id, configuration, mounts, networks and aliases, so it is the same container with
/// new secrets), starting, stopping, renaming, removing and signalling.
/// </summary>
internal sealed class EngineContainers(DockerClient client)
{
    /// <summary>The service's containers (running or not), without the temporaries of a swap, by name.</summary>
    public async Task<IReadOnlyList<ServiceContainer>> OfServiceAsync(string project, string service, CancellationToken cancellationToken)
    {
        var list = await client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { ["dso.managed=true"] = true, [$"dso.project={project}"] = true, [$"dso.service={service}"] = true },
            },
        }, cancellationToken);
        var containers = new List<ServiceContainer>();
        foreach (var item in list.Where(c => !c.Names.Any(IsTemporary)))
        {
            if (await TryInspectAsync(item.ID, cancellationToken) is { } inspect)
            {
                containers.Add(new ServiceContainer(inspect));
            }
        }

        return [.. containers.OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    public static bool IsTemporary(string name) => name.Contains("-dso-next-", StringComparison.Ordinal) || name.Contains("-dso-prev-", StringComparison.Ordinal);

    public async Task<ContainerInspectResponse?> TryInspectAsync(string idOrName, CancellationToken cancellationToken)
    {
        try
        {
            return await client.Containers.InspectContainerAsync(idOrName, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Creates a copy of <paramref name="old"/> named <paramref name="name"/> whose labels carry the new fingerprint; returns its id.</summary>
    public async Task<string> CreateCloneAsync(ContainerInspectResponse old, string name, string fingerprint, CancellationToken cancellationToken)
    {
        var config = old.Config ?? throw new DsoException($"the engine describes container {old.ID[..12]} without a configuration; it cannot be cloned");
        var labels = new Dictionary<string, string>(config.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["dso.fingerprint"] = fingerprint,
        };
        var networks = old.NetworkSettings?.Networks ?? new Dictionary<string, EndpointSettings>();
        var primary = PrimaryNetwork(old);
        var parameters = new CreateContainerParameters
        {
            Name = name,
            Hostname = config.Hostname == old.ID[..12] ? string.Empty : config.Hostname,
            Domainname = config.Domainname,
            User = config.User,
            AttachStdin = config.AttachStdin,
            AttachStdout = config.AttachStdout,
            AttachStderr = config.AttachStderr,
            ExposedPorts = config.ExposedPorts,
            Tty = config.Tty,
            OpenStdin = config.OpenStdin,
            StdinOnce = config.StdinOnce,
            Env = config.Env,
            Cmd = config.Cmd,
            Healthcheck = config.Healthcheck,
            ArgsEscaped = config.ArgsEscaped,

            // The image the old container runs, by id: a tag that moved since must not slip a new image in.
            Image = old.Image,
            Volumes = config.Volumes,
            WorkingDir = config.WorkingDir,
            Entrypoint = config.Entrypoint,
            NetworkDisabled = config.NetworkDisabled,
            OnBuild = config.OnBuild,
            Labels = labels,
            StopSignal = config.StopSignal,
            StopTimeout = config.StopTimeout,
            Shell = config.Shell,
            HostConfig = WithAnonymousVolumes(old),
            NetworkingConfig = primary is not null && networks.TryGetValue(primary, out var endpoint)
                ? new NetworkingConfig { EndpointsConfig = new Dictionary<string, EndpointSettings> { [primary] = Endpoint(endpoint, old) } }
                : null,
        };
        var created = await client.Containers.CreateContainerAsync(parameters, cancellationToken);

        // Engines before API 1.44 take one network at create; the others are connected after.
        foreach (var (network, settings) in networks.Where(n => n.Key != primary))
        {
            await client.Networks.ConnectNetworkAsync(network, new NetworkConnectParameters { Container = created.ID, EndpointConfig = Endpoint(settings, old) }, cancellationToken);
        }

        return created.ID;
    }

    public Task StartAsync(string id, CancellationToken cancellationToken) =>
        client.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancellationToken);

    /// <summary>
    /// Stops a container with its own stop signal, giving it its own stop timeout (compose's
    /// stop_grace_period) before SIGKILL; without one, <paramref name="grace"/> (a restart's
    /// rotation.grace_period), else the engine's 10 seconds.
    /// </summary>
    public async Task StopAsync(ContainerInspectResponse container, TimeSpan? grace, CancellationToken cancellationToken)
    {
        var timeout = container.Config?.StopTimeout ?? grace ?? TimeSpan.FromSeconds(10);
        try
        {
            await client.Containers.StopContainerAsync(container.ID, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)Math.Ceiling(timeout.TotalSeconds) }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
        }
    }

    public async Task RenameAsync(string id, string name, CancellationToken cancellationToken) =>
        await client.Containers.RenameContainerAsync(id, new ContainerRenameParameters { NewName = name }, cancellationToken);

    /// <summary>Removes a container if it exists; anonymous volumes are kept (a clone uses them).</summary>
    public async Task RemoveAsync(string idOrName, CancellationToken cancellationToken)
    {
        try
        {
            await client.Containers.RemoveContainerAsync(idOrName, new ContainerRemoveParameters { Force = true, RemoveVolumes = false }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
        }
    }

    public Task SignalAsync(string id, string signal, CancellationToken cancellationToken) =>
        client.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = signal }, cancellationToken);

    public static IPAddress? AddressOf(IDictionary<string, EndpointSettings>? networks) =>
        networks?.OrderBy(n => n.Key, StringComparer.Ordinal)
            .Select(n => IPAddress.TryParse(n.Value.IPAddress, out var address) ? address : null)
            .FirstOrDefault(a => a is not null);

    /// <summary>The network the container was created on (HostConfig.NetworkMode), when it is one of its networks.</summary>
    private static string? PrimaryNetwork(ContainerInspectResponse old)
    {
        var networks = old.NetworkSettings?.Networks ?? new Dictionary<string, EndpointSettings>();
        var mode = old.HostConfig?.NetworkMode;
        if (mode is not null && networks.ContainsKey(mode))
        {
            return mode;
        }

        return networks.Keys.Order(StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>The old endpoint's settings a clone must share (aliases, links, static addresses), without its generated ones (MAC, its own id as alias).</summary>
    private static EndpointSettings Endpoint(EndpointSettings old, ContainerInspectResponse container) => new()
    {
        IPAMConfig = old.IPAMConfig,
        Links = old.Links,
        Aliases = [.. (old.Aliases ?? []).Where(a => a != container.ID[..12])],
        DriverOpts = old.DriverOpts,
    };

    /// <summary>
    /// The old HostConfig plus a mount of each anonymous volume (from the image's VOLUME) it used, so
    /// the clone sees the same data, as compose does when it recreates a container.
    /// </summary>
    private static HostConfig WithAnonymousVolumes(ContainerInspectResponse old)
    {
        var host = old.HostConfig ?? new HostConfig();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var bind in host.Binds ?? [])
        {
            var parts = bind.Split(':');
            if (parts.Length >= 2)
            {
                declared.Add(parts[1]);
            }
        }

        foreach (var mount in host.Mounts ?? [])
        {
            if (mount.Target is { } target)
            {
                declared.Add(target);
            }
        }

        var anonymous = (old.Mounts ?? []).Where(m => m.Type == "volume" && m.Destination is not null && !declared.Contains(m.Destination)).ToList();
        if (anonymous.Count > 0)
        {
            host.Mounts = [.. host.Mounts ?? [], .. anonymous.Select(m => new Mount { Type = "volume", Source = m.Name, Target = m.Destination, ReadOnly = !m.RW })];
        }

        return host;
    }
}
