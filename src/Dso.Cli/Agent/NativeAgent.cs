using Dso.Agent.Hosting;
using Dso.Native;

namespace Dso.Cli.Agent;

/// <summary>
/// The dso-agent executable (the agent as its own NativeAOT program) installed beside docker-dso.
/// `docker dso agent` hands over to it with execv: same pid (systemd's main process, Type=notify),
/// same environment and standard streams, a fraction of the memory. Without it (a development
/// build) the agent runs inside docker-dso.
/// </summary>
internal static class NativeAgent
{
    /// <summary>dso-agent beside this docker-dso executable, or null.</summary>
    public static string? Beside()
    {
        // Only the docker-dso executable hands over: a test host running the CLI in process never does.
        if (Environment.ProcessPath is not { } self || Path.GetFileName(self) != "docker-dso")
        {
            return null;
        }

        var agent = Path.Combine(Path.GetDirectoryName(self)!, AgentMain.ExecutableName);
        return File.Exists(agent) && (File.GetUnixFileMode(agent) & UnixFileMode.UserExecute) != 0 ? agent : null;
    }

    /// <summary>Replaces this process with dso-agent; returns only by throwing.</summary>
    public static void Exec(string path, IReadOnlyList<string> arguments)
    {
        try
        {
            ProcessImage.Replace(path, arguments);
        }
        catch (DsoException e)
        {
            throw new DsoException($"{e.Message}; reinstall DSO (scripts/install.sh or the package) so dso-agent sits beside docker-dso", e);
        }
    }
}
