namespace Dso.Configuration;

/// <summary>`notifications:` — where rotation results are posted.</summary>
internal sealed class NotificationsConfig
{
    [ConfigKey("webhooks", "HTTP endpoints that receive rotation results as JSON.")]
    public List<NotificationTargetConfig> Webhooks { get; set; } = [];
}
