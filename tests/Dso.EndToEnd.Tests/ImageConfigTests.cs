using Dso.Testing;

namespace Dso.EndToEnd.Tests;

/// <summary>The image's own ENTRYPOINT and CMD still run, after dso-init, exactly as written.</summary>
public sealed class ImageConfigTests(EngineFixture engine)
{
    [Fact]
    public async Task ImageEntrypointAndCmd_RunAfterTheLauncher_WithTheirDollarSignsIntact()
    {
        await engine.RequireAsync();
        var image = await TestImages.BusyboxVariantAsync("dso-test/busybox-entrypoint:1", [
            "ENTRYPOINT [\"/bin/sh\", \"-c\"]",
            "CMD [\"echo in=$IN_CONTAINER secret-length=${#DB_PASSWORD}; exec sleep 3600\"]",
        ], TestContext.Current.CancellationToken);
        var value = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {image}
                environment:
                  IN_CONTAINER: "yes"
                  DB_PASSWORD: dso://app/db
            """);
        await stack.WithSecretsAsync(("app/db", value));

        await stack.DsoOkAsync("up", "-d");

        var container = await stack.ContainerAsync("api");
        var logs = await UpTests.WaitForLogsAsync(container, "in=");
        Assert.Contains($"in=yes secret-length={value.Length}", logs, StringComparison.Ordinal);
        Assert.Equal(value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(container))["DB_PASSWORD"]);
        var entrypoint = await EngineFixture.DockerOkAsync("inspect", "--format", "{{json .Config.Entrypoint}}", container);
        Assert.Equal("[\"/.dso/dso-init\",\"--\",\"/bin/sh\",\"-c\"]", entrypoint);
    }
}
