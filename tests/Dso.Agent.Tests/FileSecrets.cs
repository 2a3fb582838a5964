using System.Text.Json;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>The `file` provider's JSON file, owner-only, that a test edits to change or break secrets.</summary>
internal sealed class FileSecrets(TempDirectory directory)
{
    public string Path { get; } = directory.Combine("secrets.json");

    /// <summary>dso.yaml lines that make this file the default provider, named `files`.</summary>
    public string Yaml => $"providers:\n  files:\n    type: file\n    path: {Path}\n";

    public void Write(Dictionary<string, string> secrets) => WriteRaw(JsonSerializer.Serialize(secrets));

    public void WriteRaw(string text)
    {
        File.WriteAllText(Path + ".tmp", text);
        File.SetUnixFileMode(Path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(Path + ".tmp", Path, overwrite: true);
    }
}
