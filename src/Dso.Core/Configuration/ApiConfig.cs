namespace Dso.Configuration;

/// <summary>`agent.api`.</summary>
internal sealed class ApiConfig
{
    [ConfigKey("address", "host:port of the REST API. Anything but loopback requires `token`.")]
    public string Address { get; set; } = "127.0.0.1:8471";

    [ConfigKey("token", "Bearer token required on every REST route but /health when set (mandatory off loopback).", Secret = true)]
    public string? Token { get; set; }

    [ConfigKey("webhook_secret", "Shared key for webhook signatures (HMAC-SHA256); webhooks are refused while it is unset.", Secret = true)]
    public string? WebhookSecret { get; set; }

    [ConfigKey("webhook_rate", "Webhook requests accepted per minute; more get 429.")]
    public int WebhookRate { get; set; } = 60;
}
