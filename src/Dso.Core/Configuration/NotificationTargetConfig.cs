namespace Dso.Configuration;

/// <summary>One `notifications.webhooks[]` entry.</summary>
internal sealed class NotificationTargetConfig
{
    [ConfigKey("url", "The endpoint (http or https). A Slack incoming-webhook URL works with `format: slack`.", Secret = true)]
    public string? Url { get; set; }

    [ConfigKey("format", "`json` (DSO's rotation result object, or `{\"event\": \"provider_circuit\", …}`) or `slack` (a Slack-compatible `{\"text\": …}` message).", Allowed = ["json", "slack"])]
    public string Format { get; set; } = "json";

    [ConfigKey("on", "`failed` (failed rotations and circuits that open) or `all` (every rotation that did something, and every circuit change).", Allowed = ["failed", "all"])]
    public string On { get; set; } = "all";

    [ConfigKey("secret", "When set, each post carries `X-Dso-Timestamp` and `X-Dso-Signature: sha256=HMAC(secret, timestamp + \".\" + body)`, as incoming webhooks do.", Secret = true)]
    public string? Secret { get; set; }
}
