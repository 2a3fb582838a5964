using Dso.Testing;

namespace Dso.EndToEnd.Tests;

/// <summary>`stack deploy` against the plain engine the solution's tests run on (tests/Dso.Swarm.Tests has the swarm).</summary>
public sealed class StackDeployErrorTests(EngineFixture engine)
{
    private const string Compose = """
        services:
          api:
            image: dso-test/busybox:1
            command: ["sleep", "3600"]
            environment:
              DB_PASSWORD: dso://shop/db
        """;

    [Fact]
    public async Task StackDeploy_EngineNotInASwarm_SaysHowToFixIt_AndResolvesNothing()
    {
        await engine.RequireAsync();
        var state = await EngineFixture.DockerOkAsync("info", "--format", "{{.Swarm.LocalNodeState}}");
        if (state == "active")
        {
            Assert.Fail("the engine is in Swarm mode; this test needs a plain engine (scripts/test.sh runs the Swarm tests after it and leaves the swarm)");
        }

        await using var project = new ComposeProjectUnderTest(Compose);

        // No vault exists: the engine check comes before any provider is opened.
        var deploy = await project.DsoAsync("stack", "deploy", "-c", "compose.yaml", project.Name);

        Assert.Equal(1, deploy.ExitCode);
        Assert.Single(deploy.StandardError.Trim().Split('\n'));
        Assert.Contains("is not in a swarm", deploy.StandardError, StringComparison.Ordinal);
        Assert.Contains("docker swarm init", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(project.DsoHome), "stack deploy opened the vault before checking the engine");
    }

    [Theory]
    [InlineData("Shop", "not a stack name")]
    [InlineData("-shop", "not a stack name")]
    public async Task StackDeploy_BadStackName_IsAUsageError(string stack, string expected)
    {
        await using var project = new ComposeProjectUnderTest(Compose);

        var deploy = await project.DsoAsync("stack", "deploy", "-c", "compose.yaml", stack);

        Assert.Equal(2, deploy.ExitCode);
        Assert.Contains(expected, deploy.StandardError, StringComparison.Ordinal);
    }
}
