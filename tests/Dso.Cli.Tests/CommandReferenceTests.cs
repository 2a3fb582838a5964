using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>docs/cli.md and the man page are read from the command tree; these tests keep the docs in step with the code.</summary>
public sealed class CommandReferenceTests
{
    private const string Start = "<!-- generated:commands:start -->\n";
    private const string End = "<!-- generated:commands:end -->";

    private static string CliDoc => Path.Combine(TestEnvironment.RepositoryRoot, "docs", "cli.md");

    private static System.CommandLine.RootCommand Root()
    {
        var sink = new MemoryStream();
        return DsoApp.CreateRootCommand(new CliContext(sink, sink, sink, new Dictionary<string, string>(), "/"));
    }

    [Fact]
    public void CliDoc_ReferenceSection_MatchesTheCommandTree()
    {
        var text = File.ReadAllText(CliDoc);
        var start = text.IndexOf(Start, StringComparison.Ordinal) + Start.Length;
        var end = text.IndexOf(End, StringComparison.Ordinal);
        var expected = CommandReference.Markdown(Root());
        if (Environment.GetEnvironmentVariable("DSO_WRITE_DOCS") == "1")
        {
            File.WriteAllText(CliDoc, text[..start] + expected + text[end..]);
            return;
        }

        Assert.True(text[start..end] == expected, "docs/cli.md is out of date: run DSO_WRITE_DOCS=1 dotnet test --project tests/Dso.Cli.Tests");
        Assert.Contains("### `docker dso migrate [options]`", expected, StringComparison.Ordinal);
        Assert.Contains("| `-f, --file FILE` |", expected, StringComparison.Ordinal);
        Assert.DoesNotContain("provider-plugin", expected, StringComparison.Ordinal);
        Assert.DoesNotContain("docker dso reference", expected, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCommand_HasItsOwnProseSection()
    {
        var headings = File.ReadAllLines(CliDoc).Where(l => l.StartsWith("## ", StringComparison.Ordinal)).ToList();
        var missing = CommandReference.Entries(Root())
            .Where(e => e.Path.Length > 0 && !e.HasSubcommands)
            .Where(e => !headings.Any(h => h.Contains("`" + e.Path, StringComparison.Ordinal)))
            .Select(e => e.Path)
            .ToList();

        Assert.True(missing.Count == 0, $"docs/cli.md has no '## `COMMAND …`' section for: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task ManPage_RendersWithMan_AndNamesEveryCommandAndOption()
    {
        using var dir = new TempDirectory("dso-man-");
        var run = await CliHarness.RunAsync("reference", "--format", "man");
        Assert.Equal(0, run.ExitCode);
        var page = dir.WriteFile("docker-dso.1", run.StandardOutput);

        var man = await Dso.Processes.ChildProcess.RunAsync("man", ["-l", "-Tascii", page], new Dso.Processes.ChildProcessOptions
        {
            Environment = new Dictionary<string, string?> { ["MANWIDTH"] = "200", ["MAN_KEEP_FORMATTING"] = null },
        }, TestContext.Current.CancellationToken);

        Assert.True(man.Succeeded, man.StandardError);
        Assert.Empty(man.StandardError.Trim());
        // Bold and underline are overstrikes; a long line may wrap anywhere between words.
        var rendered = Words(System.Text.RegularExpressions.Regex.Replace(man.StandardOutput, ".\b", string.Empty));
        Assert.Contains("docker-dso - DSO, the Docker Secret Operator", rendered, StringComparison.Ordinal);
        foreach (var entry in CommandReference.Entries(Root()).Skip(1))
        {
            Assert.Contains(Words(CommandReference.Usage(entry)), rendered, StringComparison.Ordinal);
            foreach (var option in entry.Options)
            {
                Assert.Contains(Words(CommandReference.OptionSyntax(option)), rendered, StringComparison.Ordinal);
            }
        }
    }

    private static string Words(string text) => string.Join(' ', text.Replace("…", "...", StringComparison.Ordinal).Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
}
