using System.Text.Json;
using Dso.Native;

namespace Dso.Agent.Observability;

/// <summary>
/// The audit log: one JSON object per line — when, who (uid and pid of the caller, or the agent
/// itself), what, on what, with which result. Never a value; every field still goes through the
/// redactor. The file is owner-only.
/// </summary>
internal sealed class AuditLog(string? path, SecretRedactor redactor, TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private FileStream? _stream;

    public string? Path => path;

    public void Write(string actor, string action, string target, string result, string? detail = null)
    {
        if (path is null)
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.GetUtcNow());
            writer.WriteString("actor", redactor.Redact(actor));
            writer.WriteString("action", action);
            writer.WriteString("target", redactor.Redact(target));
            writer.WriteString("result", result);
            if (detail is not null)
            {
                writer.WriteString("detail", redactor.Redact(detail));
            }

            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        lock (_gate)
        {
            _stream ??= Open(path);
            _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
            _stream.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    private static FileStream Open(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            UnixFiles.CreateDirectory(directory, UnixFiles.OwnerOnlyDirectory);
        }

        var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, UnixCreateMode = UnixFiles.OwnerReadWrite });
        File.SetUnixFileMode(path, UnixFiles.OwnerReadWrite);
        return stream;
    }
}
