using Dso.Ipc;
using Dso.Native;

namespace Dso.Cli.Agent;

/// <summary>
/// The dso-agent executable (the agent daemon, NativeAOT) installed beside docker-dso. `docker dso
/// agent` hands over to it with execv: same pid (systemd's main process, Type=notify), same
/// environment and standard streams.
/// </summary>
internal static class NativeAgent
{
    /// <summary>dso-agent beside the running docker-dso, or why there is none.</summary>
    public static string Locate()
    {
        var self = Environment.ProcessPath;
        var directory = self is null ? AppContext.BaseDirectory : Path.GetDirectoryName(self)!;
        var agent = Path.Combine(directory, AgentExecutable.Name);
        return File.Exists(agent) && (File.GetUnixFileMode(agent) & UnixFileMode.UserExecute) != 0
            ? agent
            : throw new DsoException($"the agent daemon {agent} is missing; reinstall DSO (the package, or scripts/install.sh) so dso-agent sits beside docker-dso, or run it directly");
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
