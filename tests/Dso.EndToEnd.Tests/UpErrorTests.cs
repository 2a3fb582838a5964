using Dso.Testing;

namespace Dso.EndToEnd.Tests;

/// <summary>Bad input to `up`: one clear line, exit 1, and nothing started or written.</summary>
public sealed class UpErrorTests(EngineFixture engine)
{
    private static readonly string Service = $"""
        services:
          api:
            image: {TestImages.Busybox}
            command: ["sleep", "3600"]
            environment:
              DB_PASSWORD: dso://myapp/db
              API_KEY: dso://myapp/api_key
        """;

    [Fact]
    public async Task UnresolvableReference_NamesItAndWhereItIsWritten_AndStartsNothing()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest(Service);
        await stack.WithSecretsAsync(("myapp/db", "present"));

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        Assert.StartsWith("dso: compose.yaml:7: dso://myapp/api_key: no secret named myapp/api_key", up.StandardError, StringComparison.Ordinal);
        Assert.Contains("nothing was started", up.StandardError, StringComparison.Ordinal);
        await AssertNothingStartedAsync(stack);
    }

    [Fact]
    public async Task MalformedReference_IsOneClearLine()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest(Service.Replace("dso://myapp/db", "dso://myapp//db", StringComparison.Ordinal));
        await stack.WithSecretsAsync(("myapp/db", "present"), ("myapp/api_key", "k"));

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        Assert.Equal("dso: compose.yaml:6: service api, DB_PASSWORD: invalid reference 'dso://myapp//db': the path has an empty segment (a leading, trailing or doubled '/')\n", up.StandardError);
        await AssertNothingStartedAsync(stack);
    }

    [Fact]
    public async Task MissingVault_SaysHowToCreateOne()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest(Service);

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        Assert.Contains("no vault at", up.StandardError, StringComparison.Ordinal);
        Assert.Contains("docker dso init", up.StandardError, StringComparison.Ordinal);
        await AssertNothingStartedAsync(stack);
    }

    [Fact]
    public async Task ComposeFileWithAYamlError_NamesTheLine()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest("services:\n  api:\n    image: x\n   environment: [\n");
        await stack.WithSecretsAsync();

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        Assert.Matches(@"^dso: .*compose\.yaml:4:\d+: YAML error: ", up.StandardError);
        Assert.Single(up.StandardError.TrimEnd('\n').Split('\n'));
        await AssertNothingStartedAsync(stack);
    }

    [Fact]
    public async Task SecretsDirectoryOnDisk_IsRefused_NeverAFallback()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest(Service);
        await stack.WithSecretsAsync(("myapp/db", "present"), ("myapp/api_key", "k"));
        var onDisk = Path.Combine(stack.Directory, "secrets-on-disk");
        stack.Environment["DSO_SECRETS_DIR"] = onDisk;

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        Assert.Contains("is on a disk file system", up.StandardError, StringComparison.Ordinal);
        Assert.Contains("tmpfs", up.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(onDisk));
        await AssertNothingStartedAsync(stack);
    }

    [Fact]
    public async Task RemoteEngine_IsRefused()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest(Service);
        await stack.WithSecretsAsync(("myapp/db", "present"), ("myapp/api_key", "k"));
        stack.Environment["DOCKER_HOST"] = "tcp://127.0.0.1:2375";

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        Assert.Contains("the Docker engine is remote (tcp://127.0.0.1:2375, from DOCKER_HOST)", up.StandardError, StringComparison.Ordinal);
        stack.Environment.Remove("DOCKER_HOST");
        await AssertNothingStartedAsync(stack);
    }

    [Fact]
    public async Task MissingLauncher_SaysWhereItLooked()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest(Service);
        await stack.WithSecretsAsync(("myapp/db", "present"), ("myapp/api_key", "k"));
        stack.Environment["DSO_INIT"] = "/nonexistent/dso-init";

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        Assert.Equal("dso: DSO_INIT=/nonexistent/dso-init: no such file; point it at the dso-init launcher\n", up.StandardError);
        await AssertNothingStartedAsync(stack);
    }

    private static async Task AssertNothingStartedAsync(ComposeProjectUnderTest stack)
    {
        Assert.Empty(await stack.AllContainersAsync());
        Assert.False(Directory.Exists(Path.Combine(stack.SecretsDirectory, stack.Name)), "the project's secrets directory was created");
    }
}
