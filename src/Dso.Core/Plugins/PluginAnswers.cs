using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Dso.Providers;
using Dso.Secrets;

namespace Dso.Plugins;

/// <summary>
/// The bodies of the protocol's calls and answers, written and read in one place for both sides
/// (the host, the built-in plugins and the conformance kit). A value travels as `value` (UTF-8
/// text) or `base64` (any bytes) and is copied from the message bytes into a
/// <see cref="SecretValue"/> without becoming a string.
/// </summary>
public static class PluginAnswers
{
    public static void WriteRequests(Utf8JsonWriter w, IReadOnlyList<SecretRequest> requests)
    {
        w.WriteStartArray("secrets");
        foreach (var request in requests)
        {
            w.WriteStartObject();
            w.WriteString("path", request.Path);
            if (request.Version is not null)
            {
                w.WriteString("version", request.Version);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>The requests of a resolve or versions call; a malformed list throws <see cref="FormatException"/>.</summary>
    public static List<SecretRequest> ReadRequests(JsonElement? parameters)
    {
        if (parameters is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty("secrets", out var secrets) || secrets.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("params.secrets must be an array of {\"path\": …}");
        }

        var requests = new List<SecretRequest>();
        foreach (var item in secrets.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String || path.GetString() is not { Length: > 0 } text)
            {
                throw new FormatException("each of params.secrets needs a non-empty string \"path\"");
            }

            string? version = item.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            requests.Add(new SecretRequest(text, version));
        }

        return requests;
    }

    public static void WriteResolved(Utf8JsonWriter w, IReadOnlyList<ResolvedSecret> answers)
    {
        w.WriteStartArray("secrets");
        foreach (var answer in answers)
        {
            w.WriteStartObject();
            if (answer.Value is { } value)
            {
                var bytes = value.Reveal();
                if (System.Text.Unicode.Utf8.IsValid(bytes))
                {
                    w.WriteString("value", bytes);
                }
                else
                {
                    w.WriteBase64String("base64", bytes);
                }
            }
            else
            {
                w.WriteString("error", answer.Error ?? "no value");
                w.WriteBoolean("transient", answer.Transient);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>A resolve result with exactly <paramref name="count"/> answers, in order; anything else throws <see cref="FormatException"/>.</summary>
    public static List<ResolvedSecret> ReadResolved(JsonElement result, int count)
    {
        var items = Items(result, "secrets", count);
        var answers = new List<ResolvedSecret>(count);
        try
        {
            foreach (var item in items)
            {
                if (item.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String)
                {
                    answers.Add(ResolvedSecret.Found(CopyString(value)));
                }
                else if (item.TryGetProperty("base64", out var encoded) && encoded.ValueKind == JsonValueKind.String)
                {
                    var bytes = encoded.TryGetBytesFromBase64(out var decoded) ? decoded : throw new FormatException("a \"base64\" value is not valid base64");
                    answers.Add(ResolvedSecret.Found(SecretValue.FromBytes(bytes)));
                    CryptographicOperations.ZeroMemory(bytes);
                }
                else
                {
                    var (error, transient) = ReadError(item);
                    answers.Add(transient ? ResolvedSecret.Failed(error) : ResolvedSecret.Missing(error));
                }
            }
        }
        catch
        {
            answers.ForEach(a => a.Value?.Dispose());
            throw;
        }

        return answers;
    }

    public static void WriteVersions(Utf8JsonWriter w, IReadOnlyList<SecretVersion> versions)
    {
        w.WriteStartArray("versions");
        foreach (var version in versions)
        {
            w.WriteStartObject();
            if (version.Version is not null)
            {
                w.WriteString("version", version.Version);
                if (version.ChangedAt is { } at)
                {
                    w.WriteString("changedAt", at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                }
            }
            else
            {
                w.WriteString("error", version.Error ?? "no version");
                w.WriteBoolean("transient", version.Transient);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    public static List<SecretVersion> ReadVersions(JsonElement result, int count)
    {
        var versions = new List<SecretVersion>(count);
        foreach (var item in Items(result, "versions", count))
        {
            if (item.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String)
            {
                DateTimeOffset? at = item.TryGetProperty("changedAt", out var c) && c.ValueKind == JsonValueKind.String && c.TryGetDateTimeOffset(out var parsed) ? parsed : null;
                versions.Add(new SecretVersion(version.GetString(), at));
            }
            else
            {
                var (error, transient) = ReadError(item);
                versions.Add(new SecretVersion(null, null, error, transient));
            }
        }

        return versions;
    }

    private static List<JsonElement> Items(JsonElement result, string name, int count)
    {
        if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"the result has no \"{name}\" array");
        }

        var items = array.EnumerateArray().ToList();
        if (items.Count != count)
        {
            throw new FormatException($"the result has {items.Count} answer(s) for {count} request(s)");
        }

        if (items.Any(i => i.ValueKind != JsonValueKind.Object))
        {
            throw new FormatException($"each of \"{name}\" must be an object");
        }

        return items;
    }

    private static (string Error, bool Transient) ReadError(JsonElement item)
    {
        if (!item.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("an answer has neither \"value\", \"base64\" nor \"error\"");
        }

        return (error.GetString()!, item.TryGetProperty("transient", out var t) && t.ValueKind == JsonValueKind.True);
    }

    /// <summary>A JSON value as a secret: a string unescaped, anything else (an object of fields) as its raw JSON text.</summary>
    public static SecretValue ValueOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? CopyString(element) : SecretValue.FromBytes(JsonMarshal.GetRawUtf8Value(element));

    /// <summary>Unescapes a JSON string element's raw bytes into a secret value, never through a string.</summary>
    public static SecretValue CopyString(JsonElement element)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        var reader = new Utf8JsonReader(raw);
        reader.Read();
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, raw.Length));
        try
        {
            var written = reader.CopyString(buffer);
            return SecretValue.FromBytes(buffer.AsSpan(0, written));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
