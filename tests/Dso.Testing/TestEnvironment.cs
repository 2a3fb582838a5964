namespace Dso.Testing;

/// <summary>Facts about the run the tests are part of.</summary>
public static class TestEnvironment
{
    /// <summary>True in CI, where a test that needs the engine must fail rather than skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// One id per test run (set by scripts/test.sh so every test assembly shares it); every engine
    /// resource a test creates is labelled with it so cleanup finds it.
    /// </summary>
    public static string RunId { get; } = Environment.GetEnvironmentVariable("DSO_TEST_RUN_ID") is { Length: > 0 } id
        ? id
        : Guid.NewGuid().ToString("N")[..12];

    /// <summary>The repository root (the directory holding Dso.slnx).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dso.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Dso.slnx above {AppContext.BaseDirectory}");
    }
}
