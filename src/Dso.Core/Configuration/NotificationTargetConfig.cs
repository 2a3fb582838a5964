namespace Dso.Configuration;

/// <summary>One `notifications.webhooks[]` entry.</summary>
internal sealed class NotificationTargetConfig
{
    [ConfigKey("url", "The endpoint (http or https). A Slack incoming-webhook URL works with `format: slack`.", Secret = true)]
    public string? Url { get; set; }

    [ConfigKey("format", "`json` (DSO's result object) or `slack` (a Slack-compatible `{\"text\": …}` message).", Allowed = ["json", "slack"])]
    public string Format { get; set; } = "json";

    [ConfigKey("on", "`failed` (only failed rotations) or `all` (every rotation that did something).", Allowed = ["failed", "all"])]
    public string On { get; set; } = "all";

    [ConfigKey("secret", "When set, each post carries `X-Dso-Timestamp` and `X-Dso-Signature: sha256=HMAC(secret, timestamp + \".\" + body)`, as incoming webhooks do.", Secret = true)]
    public string? Secret { get; set; }
}
