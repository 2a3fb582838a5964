using System.Net;
using Docker.DotNet.Models;

namespace Dso.Agent.Rotation;

/// <summary>A managed container of a service as the engine describes it.</summary>
internal sealed record ServiceContainer(ContainerInspectResponse Inspect)
{
    public string Id => Inspect.ID;

    public string ShortId => Inspect.ID[..12];

    public string Name => Inspect.Name.TrimStart('/');

    public bool Running => Inspect.State?.Running == true;

    /// <summary>Its address on its first network with one (the proxy forwards there); null without one.</summary>
    public IPAddress? Address => EngineContainers.AddressOf(Inspect.NetworkSettings?.Networks);
}
