using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>Runs the real root command in-process with captured streams and a given environment.</summary>
internal static class CliHarness
{
    public static Task<CliRun> RunAsync(IReadOnlyDictionary<string, string>? environment, string workingDirectory, byte[]? stdin, params string[] args) =>
        RunAsync(environment, workingDirectory, stdin, terminal: false, args);

    /// <summary>Runs with <c>terminal</c> true as if standard output and error were a terminal.</summary>
    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string>? environment, string workingDirectory, byte[]? stdin, bool terminal, params string[] args)
    {
        using var input = new MemoryStream(stdin ?? []);
        using var output = new MemoryStream();
        using var error = new MemoryStream();
        var context = new CliContext(input, output, error, environment ?? new Dictionary<string, string>(), workingDirectory) { OutputIsTerminal = terminal, ErrorIsTerminal = terminal };
        var exitCode = await DsoApp.RunAsync(args, context, TestContext.Current.CancellationToken);
        return new CliRun(exitCode, output.ToArray(), System.Text.Encoding.UTF8.GetString(error.ToArray()));
    }

    /// <summary>Runs on a host whose init is not systemd, as far as the command can tell.</summary>
    public static async Task<CliRun> RunWithoutSystemdAsync(params string[] args)
    {
        using var input = new MemoryStream();
        using var output = new MemoryStream();
        using var error = new MemoryStream();
        var context = new CliContext(input, output, error, new Dictionary<string, string>(), Directory.GetCurrentDirectory()) { SystemdMarker = "/nonexistent/run/systemd/system" };
        var exitCode = await DsoApp.RunAsync(args, context, TestContext.Current.CancellationToken);
        return new CliRun(exitCode, output.ToArray(), System.Text.Encoding.UTF8.GetString(error.ToArray()));
    }

    public static Task<CliRun> RunAsync(params string[] args) => RunAsync(null, Directory.GetCurrentDirectory(), null, args);
}
