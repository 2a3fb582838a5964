namespace Dso.Configuration;

/// <summary>The built-in rotation settings, used where no configuration section sets a key.</summary>
internal static class RotationDefaults
{
    public const bool Enabled = true;
    public const string Strategy = "rolling";
    public const string Signal = "SIGHUP";
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(10);

    public static readonly string[] Strategies = ["live", "signal", "restart", "rolling", "none"];
}
