namespace Dso.Agent.Rest;

/// <summary>A fixed one-minute window that admits at most <paramref name="perMinute"/> events; thread-safe.</summary>
internal sealed class MinuteWindow(int perMinute, TimeProvider time)
{
    private readonly Lock _gate = new();
    private long _minute;
    private int _count;

    /// <summary>True while this minute's budget lasts; <paramref name="missed"/> counts the events refused in the minute before this one, once.</summary>
    public bool TryAdmit(out int missed)
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        lock (_gate)
        {
            missed = 0;
            if (minute != _minute)
            {
                missed = Math.Max(0, _count - perMinute);
                _minute = minute;
                _count = 0;
            }

            return ++_count <= perMinute;
        }
    }
}
