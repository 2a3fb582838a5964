using System.Text.Json;
using Dso.Native;

namespace Dso.Agent.Observability;

/// <summary>
/// The audit log: one JSON object per line — when, who (uid and pid of the caller, or the agent
/// itself), what, on what, with which result. Never a value; every field still goes through the
/// redactor, and is cut at <see cref="FieldLimit"/> characters so no caller can make one line
/// arbitrarily long. The file is owner-only.
/// </summary>
internal sealed class AuditLog(string? path, SecretRedactor redactor, TimeProvider time) : IDisposable
{
    public const int FieldLimit = 512;

    private readonly Lock _gate = new();
    private FileStream? _stream;

    public string? Path => path;

    /// <summary>
    /// One record. Besides DSO's fields (time, actor, action, target, result, detail), each carries
    /// the original project's (timestamp, event, status) and, for rotations, secret (the variables
    /// that changed), container (the new one) and duration_ms.
    /// </summary>
    public void Write(string actor, string action, string target, string result, string? detail = null, AuditRotation? rotation = null)
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
            writer.WriteString("actor", Bounded(actor));
            writer.WriteString("action", action);
            writer.WriteString("target", Bounded(target));
            writer.WriteString("result", result);
            if (detail is not null)
            {
                writer.WriteString("detail", Bounded(detail));
            }

            var now = time.GetUtcNow();
            writer.WriteString("timestamp", now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("event", SeedEvent(action, result));
            writer.WriteString("status", SeedStatus(result));
            if (rotation is not null)
            {
                if (rotation.Secret is not null)
                {
                    writer.WriteString("secret", Bounded(rotation.Secret));
                }

                if (rotation.Container is not null)
                {
                    writer.WriteString("container", Bounded(rotation.Container));
                }

                writer.WriteNumber("duration_ms", rotation.DurationMs);
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

    /// <summary>The seed's event names: rotation_completed, rotation_failed, …; other actions as ACTION_RESULT.</summary>
    internal static string SeedEvent(string action, string result) => (action, result) switch
    {
        ("rotate", "rotated") => "rotation_completed",
        ("rotate", _) => "rotation_" + result,
        _ => action + "_" + result,
    };

    internal static string SeedStatus(string result) => result switch
    {
        "ok" or "rotated" or "unchanged" or "accepted" or "finished" or "rolled_back" => "success",
        "skipped" or "not_audited" => "skipped",
        _ => "failure",
    };

    public void Dispose()
    {
        lock (_gate)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    /// <summary>Redacted first (a cut could split a value and hide it from the redactor), then cut.</summary>
    private string Bounded(string text)
    {
        var redacted = redactor.Redact(text.Length > 64 * 1024 ? text[..(64 * 1024)] : text);
        return redacted.Length > FieldLimit ? redacted[..FieldLimit] + "…" : redacted;
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

/// <summary>The seed's rotation fields of an audit record.</summary>
internal sealed record AuditRotation(string? Secret, string? Container, long DurationMs);
