namespace Dso.Ipc;

/// <summary>GET /v1/handshake: who the agent is and what it can do.</summary>
internal sealed record HandshakeResponse(int ApiVersion, string AgentVersion, IReadOnlyList<string> Capabilities);
