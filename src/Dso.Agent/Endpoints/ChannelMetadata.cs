namespace Dso.Agent.Endpoints;

/// <summary>
/// Endpoint metadata the gate reads after routing (spec G10): the channels that may reach the
/// endpoint, and the one check each of two endpoints skips — the handshake needs no IPC version
/// header (it is how a client learns the version), /health needs no API token (liveness probes).
/// An endpoint without this metadata is refused on every channel.
/// </summary>
internal sealed record ChannelMetadata(Channel Channels, bool Handshake = false, bool Anonymous = false);
