using Dso.Testing;

namespace Dso.EndToEnd.Tests;

public sealed class EngineSmokeTests(EngineFixture engine)
{
    [Fact]
    public async Task ImportedBusyboxImage_RunsAContainerWhoseOutputWeRead()
    {
        await engine.RequireAsync();
        var marker = Guid.NewGuid().ToString("N");

        var output = await EngineFixture.DockerOkAsync(
            "run", "--rm", "--label", $"dso.test.run={TestEnvironment.RunId}", TestImages.Busybox, "echo", marker);

        Assert.Equal(marker, output);
    }

    [Fact]
    public async Task ScratchImage_HasNoFilesAtAll()
    {
        await engine.RequireAsync();

        var size = await EngineFixture.DockerOkAsync("image", "inspect", "--format", "{{.Size}}", TestImages.Scratch);
        var labels = await EngineFixture.DockerOkAsync("image", "inspect", "--format", "{{index .Config.Labels \"dso.test\"}}", TestImages.Scratch);

        Assert.Equal("0", size);
        Assert.Equal("true", labels);
    }
}
