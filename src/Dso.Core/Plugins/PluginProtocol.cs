namespace Dso.Plugins;

/// <summary>
/// The provider plugin protocol, version 1 (docs/providers.md): JSON-RPC 2.0, one message per
/// line, host → plugin on stdin, plugin → host on stdout, stderr for the plugin's log. The host
/// sends one request at a time and waits for its answer.
/// </summary>
public static class PluginProtocol
{
    public const int Version = 1;

    /// <summary>Largest message either side may send, newline excluded. A larger one ends the plugin.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    public const string Initialize = "initialize";
    public const string Resolve = "resolve";
    public const string Versions = "versions";
    public const string Health = "health";
    public const string Shutdown = "shutdown";

    /// <summary>Environment variables every plugin gets (besides its configured allow-list).</summary>
    public static readonly IReadOnlyList<string> BaseEnvironment = ["PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR"];
}

/// <summary>JSON-RPC error codes: the standard ones, and those the protocol adds (-32000 to -32099).</summary>
public static class PluginErrorCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int Internal = -32603;

    /// <summary>The provider is unreachable, throttled or failing: retry later (transient).</summary>
    public const int Unavailable = -32001;

    /// <summary>The provider refused the plugin's credentials or configuration: retrying will not help until it changes.</summary>
    public const int Denied = -32002;

    /// <summary>A call other than initialize before initialize.</summary>
    public const int NotInitialized = -32003;
}
