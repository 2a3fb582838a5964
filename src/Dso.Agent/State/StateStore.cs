using System.Text.Json;
using Dso.Ipc;
using Dso.Native;

namespace Dso.Agent.State;

/// <summary>
/// The agent's state directory (0700), never holding a value: one JSON file per registered project
/// (references and owners) under `projects/`, the fingerprint each service's containers were last
/// given under `baselines/` (HMACs), the providers' version ids last seen (`versions.json`) and the
/// rotation journal. Written atomically; survives restarts, so the agent keeps its projects and a
/// restart rotates nothing (G8).
/// </summary>
internal sealed class StateStore(string directory)
{
    public string Directory { get; } = directory;

    private string ProjectsDirectory => Path.Combine(Directory, "projects");

    private string BaselinesDirectory => Path.Combine(Directory, "baselines");

    private string VersionsFile => Path.Combine(Directory, "versions.json");

    public string JournalPath => Path.Combine(Directory, "journal.log");

    public void Initialize()
    {
        foreach (var path in new[] { Directory, ProjectsDirectory, BaselinesDirectory })
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
        File.Delete(Path.Combine(BaselinesDirectory, project + ".json"));
        UnixFiles.FsyncDirectory(ProjectsDirectory);
    }

    /// <summary>Service → fingerprint of the values its containers were given (empty when none is recorded).</summary>
    public Dictionary<string, string> LoadBaselines(string project) =>
        ReadMap(Path.Combine(BaselinesDirectory, project + ".json"), "move it away; the agent then adopts the values its providers hold now");

    public void SaveBaselines(string project, IReadOnlyDictionary<string, string> baselines) =>
        WriteMap(Path.Combine(BaselinesDirectory, project + ".json"), baselines);

    /// <summary>Secret key → the provider's version id last seen (never a value: vault numbers, cloud version ids, or HMACs).</summary>
    public Dictionary<string, string> LoadVersions() => ReadMap(VersionsFile, "remove it; every secret is then checked once");

    public void SaveVersions(IReadOnlyDictionary<string, string> versions) => WriteMap(VersionsFile, versions);

    private static Dictionary<string, string> ReadMap(string path, string fix)
    {
        if (!File.Exists(path))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        try
        {
            return new Dictionary<string, string>(JsonSerializer.Deserialize(File.ReadAllBytes(path), StateJson.Default.DictionaryStringString) ?? [], StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new DsoException($"state file {path} is damaged ({e.Message}); {fix}");
        }
    }

    private static void WriteMap(string path, IReadOnlyDictionary<string, string> map) =>
        AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(map.OrderBy(e => e.Key, StringComparer.Ordinal).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal), StateJson.Default.DictionaryStringString), UnixFiles.OwnerReadWrite, durable: true);
}
