using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dso.Ipc;

/// <summary>Source-generated JSON for the IPC contracts (camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(HandshakeResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ProjectRegistration))]
[JsonSerializable(typeof(RegistrationResult))]
[JsonSerializable(typeof(SwarmDeployResult))]
[JsonSerializable(typeof(AgentEvent))]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(RotateRequest))]
[JsonSerializable(typeof(RotateResponse))]
[JsonSerializable(typeof(RotationResult))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class IpcJson : JsonSerializerContext
{
    /// <summary>What is wrong with a request body, in one line (System.Text.Json may quote the input, newlines and all).</summary>
    public static string Describe(JsonException e) => DsoException.OneLine(e.Message);

    /// <summary>
    /// The context both ends use on the wire, and `--json` output: camelCase, and ' &amp; &lt; left as
    /// they are (messages are read by people).
    /// </summary>
    public static IpcJson Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // A null the contract does not allow is refused as the body is read (a field left out is
        // checked by the receiver: RegistrationRules.Validate), never a crash further in.
        RespectNullableAnnotations = true,
    });

    /// <summary>The wire's form, indented, for people reading whole payloads (`watch --debug`).</summary>
    public static IpcJson Indented { get; } = new(new JsonSerializerOptions(Wire.Options) { WriteIndented = true });
}
