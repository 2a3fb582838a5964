using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// A client loop through the proxy: a new short connection every 10 ms, and four long-lived
/// connections that each send a request every 50 ms for half a second (well within the drain
/// grace) before they are replaced. Every answer must carry <c>PREFIX&lt;n&gt;</c>; any error or
/// other answer counts as a failure. The short loop records when each n was first served.
/// </summary>
internal sealed class ClientLoad(int port, string prefix) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _failures = [];
    private readonly List<Task> _tasks = [];
    private readonly Dictionary<int, TimeSpan> _firstSeen = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _requests;
    private int _longLived;

    /// <summary>Time since the load was created, on the clock <see cref="FirstSeen"/> uses.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public void Start()
    {
        _tasks.Add(Task.Run(ShortLoopAsync));
        for (var i = 0; i < 4; i++)
        {
            _tasks.Add(Task.Run(LongLoopAsync));
        }
    }

    /// <summary>When the short loop first got an answer with a value numbered at least <paramref name="n"/>; null when none came yet.</summary>
    public TimeSpan? FirstSeen(int n)
    {
        lock (_failures)
        {
            var seen = _firstSeen.Where(s => s.Key >= n).Select(s => (TimeSpan?)s.Value).ToList();
            return seen.Count == 0 ? null : seen.Min();
        }
    }

    public async Task<(int Requests, int LongLived, IReadOnlyList<string> Failures)> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
        lock (_failures)
        {
            return (_requests, _longLived, [.. _failures]);
        }
    }

    public void Dispose() => _stop.Dispose();

    private async Task ShortLoopAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (!_stop.IsCancellationRequested && DateTime.UtcNow < deadline)
        {
            try
            {
                var answer = await RotationStack.QueryAsync(port);
                if (Number(answer) is { } n)
                {
                    lock (_failures)
                    {
                        _firstSeen.TryAdd(n, _clock.Elapsed);
                    }
                }
                else
                {
                    Fail($"short: unexpected answer '{answer.Split('\n')[0]}'");
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                Fail($"short: {e.GetType().Name}: {e.Message}");
            }

            Interlocked.Increment(ref _requests);
            await Task.Delay(10);
        }
    }

    private async Task LongLoopAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (!_stop.IsCancellationRequested && DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.UTF8, false, 256, leaveOpen: true);
                await stream.WriteAsync("KEEP\n"u8.ToArray());
                Interlocked.Increment(ref _longLived);
                for (var i = 0; i < 10 && !_stop.IsCancellationRequested; i++)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await stream.WriteAsync("GET\n"u8.ToArray(), timeout.Token);
                    var answer = new StringBuilder();
                    while (await reader.ReadLineAsync(timeout.Token) is { } line && line != "END")
                    {
                        answer.Append(line).Append('\n');
                    }

                    if (Number(answer.ToString()) is null)
                    {
                        Fail($"long-lived: unexpected answer '{answer.ToString().Split('\n')[0]}'");
                    }

                    Interlocked.Increment(ref _requests);
                    await Task.Delay(50);
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                Fail($"long-lived: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private int? Number(string answer)
    {
        var at = answer.IndexOf(prefix, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var start = at + prefix.Length;
        var end = start;
        while (end < answer.Length && char.IsAsciiDigit(answer[end]))
        {
            end++;
        }

        return end > start ? int.Parse(answer.AsSpan(start, end - start), CultureInfo.InvariantCulture) : null;
    }

    private void Fail(string reason)
    {
        lock (_failures)
        {
            _failures.Add(reason);
        }
    }
}
