namespace Dso.Configuration;

/// <summary>`notifications:` — where rotation results are posted.</summary>
internal sealed class NotificationsConfig
{
    [ConfigKey("webhooks", "HTTP endpoints that receive rotation results and provider circuit-breaker changes; `docker dso notifications test` checks them.")]
    public List<NotificationTargetConfig> Webhooks { get; set; } = [];
}
