namespace Dso.Configuration;

/// <summary>`agent.watch`.</summary>
internal sealed class WatchConfig
{
    [ConfigKey("mode", "`polling`, `webhook` (push only) or `off`.", Allowed = ["polling", "webhook", "off"])]
    public string Mode { get; set; } = "polling";

    [ConfigKey("polling_interval", "How often each secret's version is checked when polling.")]
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(30);
}
