namespace Dso.Providers.Plugins;

/// <summary>
/// A plugin call that failed: the plugin answered with an error (<see cref="RpcCode"/>), broke the
/// protocol, hung, or died. Messages never hold values. <see cref="Deferred"/>: not even tried,
/// because the plugin is waiting out its restart backoff.
/// </summary>
internal sealed class PluginException(string message, int? rpcCode = null, bool deferred = false) : Exception(message)
{
    public int? RpcCode { get; } = rpcCode;

    public bool Deferred { get; } = deferred;
}
