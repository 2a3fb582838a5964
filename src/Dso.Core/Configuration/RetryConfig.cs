namespace Dso.Configuration;

/// <summary>`providers.NAME.retry`.</summary>
internal sealed class RetryConfig
{
    [ConfigKey("attempts", "Attempts per call, the first included.")]
    public int Attempts { get; set; } = 3;

    [ConfigKey("backoff", "Wait before the first retry; doubled each time, with jitter.")]
    public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(1);
}
