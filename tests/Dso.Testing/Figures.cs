using System.Text.Json;

namespace Dso.Testing;

/// <summary>
/// What a guarantee's test measured, recorded as it passes: one JSON line per figure in
/// artifacts/test-results/figures/ (one file per test process). scripts/test.sh renders them into
/// the run's guarantee report, and with DSO_WRITE_FIGURES=1 into docs/security.md.
/// </summary>
public static class Figures
{
    private static readonly Lock Gate = new();

    /// <param name="guarantee">G1 … G10.</param>
    /// <param name="measure">What was counted, in words.</param>
    /// <param name="value">The figure.</param>
    /// <param name="test">The test that measured it.</param>
    /// <param name="file">Its source file (the test class).</param>
    public static void Record(string guarantee, string measure, string value, [System.Runtime.CompilerServices.CallerMemberName] string test = "", [System.Runtime.CompilerServices.CallerFilePath] string file = "")
    {
        test = $"{Path.GetFileNameWithoutExtension(file)}.{test}";
        var directory = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "test-results", "figures");
        var line = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["guarantee"] = guarantee,
            ["measure"] = measure,
            ["value"] = value,
            ["test"] = test,
        });
        lock (Gate)
        {
            Directory.CreateDirectory(directory);
            File.AppendAllText(Path.Combine(directory, $"figures-{Environment.ProcessId}.jsonl"), line + "\n");
        }
    }
}
