using System.Collections.Concurrent;
using Dso.Ipc;

namespace Dso.Agent.Docker;

/// <summary>The managed containers the engine last reported, by project and service.</summary>
internal sealed class ContainerBook
{
    private readonly ConcurrentDictionary<string, (string Project, string Service, ContainerStatus Status)> _containers = new(StringComparer.Ordinal);

    public int RunningCount => _containers.Values.Count(c => c.Status.State == "running");

    public void Replace(IEnumerable<(string Project, string Service, ContainerStatus Status)> containers)
    {
        var fresh = containers.ToDictionary(c => c.Status.Id, StringComparer.Ordinal);
        foreach (var id in _containers.Keys.Where(id => !fresh.ContainsKey(id)).ToList())
        {
            _containers.TryRemove(id, out _);
        }

        foreach (var (id, container) in fresh)
        {
            _containers[id] = container;
        }
    }

    public void Set(string project, string service, ContainerStatus status) => _containers[status.Id] = (project, service, status);

    /// <summary>A container got a new name (a swap renames both copies); its state is unchanged.</summary>
    public void Rename(string project, string service, string id, string name) =>
        _containers.AddOrUpdate(id, _ => (project, service, new ContainerStatus(id, name, "running")), (_, old) => (project, service, old.Status with { Name = name }));

    public void Remove(string id) => _containers.TryRemove(id, out _);

    public IReadOnlyList<ContainerStatus> Of(string project, string service) =>
        [.. _containers.Values.Where(c => c.Project == project && c.Service == service).Select(c => c.Status).OrderBy(c => c.Name, StringComparer.Ordinal)];
}
