using Dso.Ipc;

namespace Dso.Injection.Planning;

/// <summary>What the agent said about one service at registration: its rotation strategy and the host ports its proxy owns.</summary>
internal sealed record ServiceDelivery(string? Strategy, IReadOnlyList<PortRegistration> ProxiedPorts);
