using Dso.Processes;
using Dso.Testing;

namespace Dso.EndToEnd.Tests;

/// <summary>The README's first command, as a new user runs it (with a fresh HOME and Docker config).</summary>
public sealed class QuickstartTests(EngineFixture engine)
{
    [Fact]
    public async Task Quickstart_ShowsTheSecretInsideTheContainer_AndOnlyTheReferenceInInspect()
    {
        await engine.RequireAsync();
        using var home = new TempDirectory("dso-quickstart-home-");
        var project = "dsotquick" + Guid.NewGuid().ToString("N")[..6];
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = home.Path,
            ["DOCKER_CONFIG"] = TestCompose.WithComposePlugin(home.Combine(".docker")),
            ["COMPOSE_PROJECT_NAME"] = project,
            ["DSO_HOME"] = null,
            ["DSO_VAULT"] = null,
            ["DSO_INIT"] = null,
            ["DSO_SECRETS_DIR"] = $"/dev/shm/dso-test-{project}",
        };
        var options = new ChildProcessOptions { Environment = environment, WorkingDirectory = TestEnvironment.RepositoryRoot, Timeout = TimeSpan.FromMinutes(10) };
        var plugin = Path.Combine(home.Path, ".docker", "cli-plugins", "docker-dso");
        try
        {
            var run = await ChildProcess.RunAsync("bash", ["scripts/quickstart.sh"], options, TestContext.Current.CancellationToken);
            Assert.True(run.Succeeded, run.StandardOutput + run.StandardError);

            var password = await ChildProcess.RunAsync(plugin, ["secret", "get", "quickstart/db_password"], options, TestContext.Current.CancellationToken);
            Assert.True(password.Succeeded, password.StandardError);
            Assert.True(password.StandardOutput.Length >= 16);
            Assert.Contains($"  DB_PASSWORD={password.StandardOutput}\n", run.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("  DB_PASSWORD=dso://quickstart/db_password\n", run.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("  content of /run/secrets/dso/api_key: ", run.StandardOutput, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(home.Path, ".local", "lib", "dso", "dso-init")));

            // The installed plugin finds its native library: a passphrase vault (Argon2id, libsodium) works.
            // DSO passes no vault credential to a child, so the shell sets it from its stdin (never in argv).
            var passphrase = await ChildProcess.RunAsync("sh", ["-c", "DSO_PASSPHRASE=$(cat) exec \"$0\" init --passphrase", plugin], options with
            {
                Environment = new Dictionary<string, string?>(environment) { ["DSO_HOME"] = home.Combine("passphrase-vault") },
                StandardInput = "correct horse battery staple"u8.ToArray(),
            }, TestContext.Current.CancellationToken);
            Assert.True(passphrase.Succeeded, passphrase.StandardError);
            Assert.Contains("protected by a passphrase (Argon2id", passphrase.StandardOutput, StringComparison.Ordinal);

            var again = await ChildProcess.RunAsync("bash", ["scripts/quickstart.sh"], options, TestContext.Current.CancellationToken);
            Assert.True(again.Succeeded, again.StandardOutput + again.StandardError);
            Assert.Contains($"  DB_PASSWORD={password.StandardOutput}\n", again.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("unchanged:", again.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            await ChildProcess.RunAsync(plugin, ["down", "-t", "1"], options with { WorkingDirectory = Path.Combine(TestEnvironment.RepositoryRoot, "examples", "quickstart") }, CancellationToken.None);
        }
    }
}
