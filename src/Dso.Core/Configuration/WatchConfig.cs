namespace Dso.Configuration;

/// <summary>`agent.watch`: how changes in the providers are noticed.</summary>
internal sealed class WatchConfig
{
    [ConfigKey("mode", "`polling` (with webhooks too when `agent.api.webhook_secret` is set), `webhook` (push only) or `off`.", Allowed = ["polling", "webhook", "off"])]
    public string Mode { get; set; } = "polling";

    [ConfigKey("polling_interval", "How often each secret's version is checked when polling.")]
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(30);

    [ConfigKey("backoff_limit", "A secret that keeps not changing is checked less often, up to this many times the polling interval.")]
    public int BackoffLimit { get; set; } = 4;

    [ConfigKey("jitter", "Each check is moved by up to this percentage of its interval, so checks of many secrets spread out (0 to 50).")]
    public int Jitter { get; set; } = 10;

    [ConfigKey("watch_files", "Check at once when the local vault or a `file` provider's file changes (inotify).")]
    public bool WatchFiles { get; set; } = true;
}
