using System.Text;
using System.Text.Json;
using Dso.Agent.State;
using Dso.Native;

namespace Dso.Agent.Rotation;

/// <summary>
/// The write-ahead journal of container swaps (G7): each phase is appended and fsynced before it is
/// taken, so after a crash — even SIGKILL in the middle of a step — the agent knows what it was
/// doing and can undo or finish it. A torn last line is ignored. When no swap is open the file is
/// emptied.
/// </summary>
internal sealed class RotationJournal(StateStore state)
{
    /// <summary>
    /// Fault injection for the crash tests: the agent SIGKILLs itself right after journaling this
    /// phase (`create`, `switch`, …). Documented in docs/testing.md; unset in production.
    /// </summary>
    public const string KillAfterPhaseVariable = "DSO_TEST_KILL_AFTER_PHASE";

    private readonly Lock _gate = new();
    private readonly string? _killAfter = Environment.GetEnvironmentVariable(KillAfterPhaseVariable)?.Trim().ToLowerInvariant();
    private readonly HashSet<string> _open = [];

    public string Path => state.JournalPath;

    public void Append(JournalEntry entry)
    {
        var line = JsonSerializer.Serialize(entry, StateJson.Default.JournalEntry) + "\n";
        lock (_gate)
        {
            using (var stream = new FileStream(Path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, UnixCreateMode = UnixFiles.OwnerReadWrite }))
            {
                stream.Write(Encoding.UTF8.GetBytes(line));
                stream.Flush(flushToDisk: true);
            }

            if (entry.Phase == SwapPhase.Done)
            {
                _open.Remove(entry.Id);
                if (_open.Count == 0)
                {
                    AtomicFile.Write(Path, [], UnixFiles.OwnerReadWrite, durable: true);
                }
            }
            else
            {
                _open.Add(entry.Id);
            }
        }

        if (_killAfter is not null && string.Equals(_killAfter, entry.Phase.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            Libc.Kill(Environment.ProcessId, 9);
        }
    }

    /// <summary>The last entry of every swap that did not reach <see cref="SwapPhase.Done"/>.</summary>
    public IReadOnlyList<JournalEntry> Incomplete()
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        var last = new Dictionary<string, JournalEntry>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize(line, StateJson.Default.JournalEntry) is { } entry)
                {
                    last[entry.Id] = entry;
                }
            }
            catch (JsonException)
            {
                // A line the crash cut short: the step it announced was never taken.
            }
        }

        var open = last.Values.Where(e => e.Phase != SwapPhase.Done).OrderBy(e => e.At).ToList();
        lock (_gate)
        {
            foreach (var entry in open)
            {
                _open.Add(entry.Id);
            }
        }

        return open;
    }
}
