using System.Text;
using System.Text.RegularExpressions;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>Colour only on a terminal and never with NO_COLOR or in JSON; a progress line only when standard error is a terminal.</summary>
public sealed partial class TerminalTests
{
    private const string Compose = "services:\n  api:\n    image: x\n    environment:\n      DB: dso://shop/db\n      MISSING: dso://shop/missing\n";

    [Fact]
    public async Task Tables_AreColouredOnATerminal_WithTheSameLayout_AndPlainWithNoColorOrJson()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("shop/db", "pw");
        cli.WriteFile("compose.yaml", Compose);

        var piped = await cli.RunAsync("validate");
        var terminal = await CliHarness.RunAsync(cli.Environment, cli.Home, null, terminal: true, "validate");
        var noColor = await CliHarness.RunAsync(new Dictionary<string, string>(cli.Environment) { ["NO_COLOR"] = "1" }, cli.Home, null, terminal: true, "validate");
        var dumb = await CliHarness.RunAsync(new Dictionary<string, string>(cli.Environment) { ["TERM"] = "dumb" }, cli.Home, null, terminal: true, "validate");
        var json = await CliHarness.RunAsync(cli.Environment, cli.Home, null, terminal: true, "validate", "--json");

        Assert.Contains("\u001b[32mok\u001b[0m", terminal.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\u001b[31mERROR\u001b[0m", terminal.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(piped.StandardOutput, Escapes().Replace(terminal.StandardOutput, string.Empty));
        Assert.DoesNotContain('\u001b', piped.StandardOutput);
        Assert.Equal(piped.StandardOutput, noColor.StandardOutput);
        Assert.Equal(piped.StandardOutput, dumb.StandardOutput);
        Assert.DoesNotContain('\u001b', json.StandardOutput);
    }

    [Fact]
    public async Task ARealTerminal_GetsColour_AndNoColorTurnsItOff()
    {
        using var dir = new TempDirectory("dso-tty-");
        dir.WriteFile("compose.yaml", Compose);
        var cli = Path.Combine(AppContext.BaseDirectory, "docker-dso");
        var environment = new Dictionary<string, string?> { ["DSO_HOME"] = dir.Combine(".dso"), ["TERM"] = "xterm", ["NO_COLOR"] = null };

        var init = await ChildProcess.RunAsync(cli, ["init"], new ChildProcessOptions { WorkingDirectory = dir.Path, Environment = environment }, TestContext.Current.CancellationToken);
        Assert.True(init.Succeeded, init.StandardError);

        // script(1) runs the command on a new pseudo-terminal.
        var colour = await ChildProcess.RunAsync("script", ["-qec", $"'{cli}' validate", "/dev/null"], new ChildProcessOptions { WorkingDirectory = dir.Path, Environment = environment }, TestContext.Current.CancellationToken);
        var plain = await ChildProcess.RunAsync("script", ["-qec", $"'{cli}' validate", "/dev/null"], new ChildProcessOptions { WorkingDirectory = dir.Path, Environment = new Dictionary<string, string?>(environment) { ["NO_COLOR"] = "1" } }, TestContext.Current.CancellationToken);

        Assert.Contains("\u001b[31mERROR\u001b[0m", colour.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ERROR", plain.StandardOutput, StringComparison.Ordinal);
        // (.NET itself writes the terminal's keypad mode on a TTY; only colour is DSO's.)
        Assert.DoesNotMatch(Escapes(), plain.StandardOutput);
    }

    [Fact]
    public async Task Progress_IsShownOnlyWhenStandardErrorIsATerminal_AndClearedWhenDone()
    {
        string Run(bool terminal)
        {
            using var error = new MemoryStream();
            var context = new CliContext(new MemoryStream(), new MemoryStream(), error, new Dictionary<string, string>(), "/") { ErrorIsTerminal = terminal };
            using (Terminal.Progress(context, "resolving 3 secret references for 1 service"))
            {
                Thread.Sleep(400);
            }

            context.Error.Flush();
            return Encoding.UTF8.GetString(error.ToArray());
        }

        var shown = await Task.Run(() => Run(terminal: true), TestContext.Current.CancellationToken);
        var hidden = await Task.Run(() => Run(terminal: false), TestContext.Current.CancellationToken);

        Assert.StartsWith("\r⠋ resolving 3 secret references for 1 service (0s)", shown, StringComparison.Ordinal);
        Assert.Contains("\r⠙ resolving", shown, StringComparison.Ordinal);
        Assert.Matches(@"\r {40,}\r$", shown);
        Assert.Empty(hidden);
    }

    [GeneratedRegex("\u001b\\[[0-9;]*m")]
    private static partial Regex Escapes();
}
