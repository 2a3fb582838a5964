namespace Dso.Ipc;

/// <summary>
/// The CLI ⇄ agent protocol: HTTP/JSON over the agent's Unix socket, routes under /v1. Every
/// request carries <see cref="VersionHeader"/>; an agent that does not speak that version answers
/// 400 with a message, and a CLI that finds an agent of another version says which to upgrade.
/// </summary>
internal static class IpcProtocol
{
    public const int Version = 1;
    public const string VersionHeader = "Dso-Api-Version";
    public const string SocketVariable = "DSO_AGENT_SOCKET";

    public static readonly string[] Capabilities = ["status", "projects", "events", "rotate", "proxy", "doctor", "swarm"];
}
