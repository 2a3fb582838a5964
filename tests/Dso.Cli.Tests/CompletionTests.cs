using Dso.Processes;
using Dso.Testing;

namespace Dso.Cli.Tests;

/// <summary>
/// `docker dso completion SHELL`, loaded into the real shell: a partial command line completes to
/// the installed version's commands and options, for `docker-dso …` and `docker dso …`.
/// </summary>
public sealed class CompletionTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "docker-dso");

    [Theory]
    [InlineData("docker-dso rot", "_docker_dso", "rotate")]
    [InlineData("docker dso rot", "_docker_dso_or_docker", "rotate")]
    [InlineData("docker dso rotate --pr", "_docker_dso_or_docker", "--project")]
    [InlineData("docker-dso secret l", "_docker_dso", "list ls")]
    [InlineData("docker dso completion z", "_docker_dso_or_docker", "zsh")]
    public async Task Bash_CompletesThePartialLine(string line, string function, string expected)
    {
        using var dir = new TempDirectory();
        var script = dir.WriteFile("dso.bash", await ScriptAsync("bash"));
        var driver = $$"""
            source '{{script}}'
            COMP_LINE='{{line}}'; COMP_POINT=${#COMP_LINE}
            read -ra COMP_WORDS <<< "$COMP_LINE"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            {{function}}
            echo "${COMPREPLY[*]}"
            """;

        var run = await ChildProcess.RunAsync("/bin/bash", ["--norc", "-c", driver], Options(), TestContext.Current.CancellationToken);

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Equal(expected, run.StandardOutput.Trim());
    }

    [Fact]
    public async Task Fish_CompletesThePartialLine()
    {
        using var dir = new TempDirectory();
        var script = dir.WriteFile("dso.fish", await ScriptAsync("fish"));

        var run = await ChildProcess.RunAsync(Shell("fish"), ["--no-config", "-c", $"source '{script}'; complete -C 'docker-dso rot'; complete -C 'docker dso rotate --pr'"], Options(), TestContext.Current.CancellationToken);

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Equal(["rotate", "--project"], run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split('\t')[0]));
    }

    [Fact]
    public async Task Zsh_LoadsUnderCompinit_AndRegistersBothCommands()
    {
        using var dir = new TempDirectory();
        var script = dir.WriteFile("dso.zsh", await ScriptAsync("zsh"));

        var run = await ChildProcess.RunAsync(Shell("zsh"), ["-f", "-c", $"autoload -Uz compinit && compinit -u -D && source '{script}' && print -r -- \"$_comps[docker-dso] $_comps[docker]\" && __dso_suggest 'rot'"], Options(), TestContext.Current.CancellationToken);

        Assert.True(run.Succeeded, run.StandardError);
        Assert.Equal(["_docker_dso _docker_dso_or_docker", "rotate"], run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task AShellItDoesNotKnow_IsOneLineAndAUsageError()
    {
        var run = await ChildProcess.RunAsync(Cli, ["completion", "tcsh"], Options(), TestContext.Current.CancellationToken);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("dso: completion: 'tcsh' is not a shell DSO completes (bash, zsh or fish)", run.StandardError.Trim());
        Assert.Empty(run.StandardOutput);
    }

    private static async Task<string> ScriptAsync(string shell)
    {
        var run = await ChildProcess.RunAsync(Cli, ["completion", shell], Options(), TestContext.Current.CancellationToken);
        Assert.True(run.Succeeded, run.StandardError);
        Assert.Contains(Cli, run.StandardOutput, StringComparison.Ordinal);
        return run.StandardOutput;
    }

    private static string Shell(string name) =>
        new[] { "/usr/bin/" + name, "/bin/" + name }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not installed (scripts/test.sh installs it)");

    private static ChildProcessOptions Options() => new() { Timeout = TimeSpan.FromMinutes(1) };
}
