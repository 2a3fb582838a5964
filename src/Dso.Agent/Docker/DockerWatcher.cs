using Docker.DotNet;
using Docker.DotNet.Models;
using Dso.Agent.Events;
using Dso.Agent.Hosting;
using Dso.Agent.Observability;
using Dso.Agent.Projects;
using Dso.Agent.Proxy;
using Dso.Agent.Rotation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dso.Agent.Docker;

/// <summary>
/// Follows the engine's events for containers labelled dso.managed=true (start, die, destroy,
/// rename): keeps the container book and the proxy's container sets current, publishes each as an
/// event, and asks the reconciler to check secrets when a managed container starts or dies (after a
/// reboot its first start fails in dso-init until the agent has restored the files). The new
/// containers of a swap (`-dso-next-`) are left to the rotation, which routes them once healthy.
/// Reconnects with backoff when the engine goes away.
/// </summary>
internal sealed class DockerWatcher(
    DockerClient client,
    ContainerBook containers,
    TcpProxy proxy,
    ProjectRegistry projects,
    EventHub events,
    DsoMetrics metrics,
    ReconcileSignal signal,
    ILogger<DockerWatcher> log) : BackgroundService
{
    private static readonly Dictionary<string, IDictionary<string, bool>> Filters = new()
    {
        ["type"] = new Dictionary<string, bool> { ["container"] = true },
        ["label"] = new Dictionary<string, bool> { ["dso.managed=true"] = true },
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
                delay = TimeSpan.FromSeconds(1);
                await client.System.MonitorEventsAsync(new ContainerEventsParameters { Filters = Filters }, new Progress<Message>(OnEvent), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("lost the Docker event stream ({Error}); retrying in {Delay}", e.Message, delay);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var list = await client.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = Filters["label"] } }, cancellationToken);
        containers.Replace(list.Select(c => (
            Label(c.Labels, "dso.project") ?? string.Empty,
            Label(c.Labels, "dso.service") ?? string.Empty,
            new Dso.Ipc.ContainerStatus(c.ID[..12], c.Names.FirstOrDefault()?.TrimStart('/') ?? c.ID[..12], c.State))));
        metrics.ManagedContainers.Set(containers.RunningCount);

        var running = list.Where(c => c.State == "running" && !c.Names.Any(EngineContainers.IsTemporary))
            .Select(c => (Project: Label(c.Labels, "dso.project"), Service: Label(c.Labels, "dso.service"), Address: EngineContainers.AddressOf(c.NetworkSettings?.Networks), c.ID))
            .Where(c => c.Address is not null)
            .ToList();
        foreach (var project in projects.Snapshot())
        {
            foreach (var service in project.Registration.Services.Where(s => proxy.Proxies(project.Name, s.Name)))
            {
                proxy.Reset(project.Name, service.Name, running.Where(c => c.Project == project.Name && c.Service == service.Name).Select(c => new Backend(c.ID, c.Address!)));
            }
        }
    }

    private void OnEvent(Message message)
    {
        var action = message.Action ?? "unknown";
        if (action is not ("start" or "die" or "destroy" or "rename"))
        {
            return;
        }

        var attributes = message.Actor?.Attributes ?? new Dictionary<string, string>();
        var project = Label(attributes, "dso.project");
        var service = Label(attributes, "dso.service");
        var id = message.Actor?.ID is { Length: >= 12 } full ? full[..12] : message.Actor?.ID ?? "?";
        var name = Label(attributes, "name") ?? id;
        metrics.DockerEvents.WithLabels(action).Inc();
        if (action == "destroy")
        {
            containers.Remove(id);
        }
        else if (project is not null && service is not null && action == "rename")
        {
            containers.Rename(project, service, id, name);
        }
        else if (project is not null && service is not null)
        {
            containers.Set(project, service, new Dso.Ipc.ContainerStatus(id, name, action == "start" ? "running" : "exited"));
        }

        metrics.ManagedContainers.Set(containers.RunningCount);
        if (project is not null && service is not null && message.Actor?.ID is { } fullId && !EngineContainers.IsTemporary(name))
        {
            if (action == "start")
            {
                _ = RouteAsync(project, service, fullId);
            }
            else if (action is "die" or "destroy")
            {
                proxy.Stopped(project, service, fullId);
            }
        }

        var exit = action == "die" && attributes.TryGetValue("exitCode", out var code) ? $" (exit {code})" : string.Empty;
        events.Publish($"container.{action}", project, service, $"{name}{exit}");
        if (action is "start" or "die")
        {
            signal.Raise();
        }
    }

    /// <summary>A started container joins its service's set once the engine reports its address.</summary>
    private async Task RouteAsync(string project, string service, string id)
    {
        if (!proxy.Proxies(project, service))
        {
            return;
        }

        try
        {
            var inspect = await client.Containers.InspectContainerAsync(id);
            if (inspect.State?.Running == true && !EngineContainers.IsTemporary(inspect.Name) && EngineContainers.AddressOf(inspect.NetworkSettings?.Networks) is { } address)
            {
                proxy.Started(project, service, new Backend(id, address));
            }
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
        {
            log.LogWarning("cannot route to container {Id} of {Project}/{Service}: {Error}", id[..12], project, service, e.Message);
        }
    }

    private static string? Label(IDictionary<string, string>? labels, string key) =>
        labels is not null && labels.TryGetValue(key, out var value) ? value : null;
}
