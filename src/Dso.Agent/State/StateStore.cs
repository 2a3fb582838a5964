using System.Text.Json;
using Dso.Ipc;
using Dso.Native;

namespace Dso.Agent.State;

/// <summary>
/// The agent's state directory (0700): one JSON file per registered project (references and
/// owners, never values), written atomically. Survives restarts, so the agent keeps its projects.
/// </summary>
internal sealed class StateStore(string directory)
{
    public string Directory { get; } = directory;

    private string ProjectsDirectory => Path.Combine(Directory, "projects");

    public void Initialize()
    {
        foreach (var path in new[] { Directory, ProjectsDirectory })
        {
            if (!System.IO.Directory.Exists(path))
            {
                UnixFiles.CreateDirectory(path, UnixFiles.OwnerOnlyDirectory);
            }
            else if ((File.GetUnixFileMode(path) & UnixFiles.GroupOrOther) != 0)
            {
                File.SetUnixFileMode(path, UnixFiles.OwnerOnlyDirectory);
            }
        }
    }

    public IReadOnlyList<ProjectRegistration> LoadProjects()
    {
        var projects = new List<ProjectRegistration>();
        foreach (var file in System.IO.Directory.EnumerateFiles(ProjectsDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                projects.Add(JsonSerializer.Deserialize(File.ReadAllBytes(file), IpcJson.Wire.ProjectRegistration)
                    ?? throw new JsonException("empty"));
            }
            catch (JsonException e)
            {
                throw new DsoException($"state file {file} is damaged ({e.Message}); move it away and run 'docker dso up' for that project again");
            }
        }

        return projects;
    }

    public void Save(ProjectRegistration project)
    {
        var target = Path.Combine(ProjectsDirectory, project.Name + ".json");
        AtomicFile.Write(target, JsonSerializer.SerializeToUtf8Bytes(project, IpcJson.Wire.ProjectRegistration), UnixFiles.OwnerReadWrite, durable: true);
    }

    public void Remove(string project)
    {
        File.Delete(Path.Combine(ProjectsDirectory, project + ".json"));
        UnixFiles.FsyncDirectory(ProjectsDirectory);
    }
}
