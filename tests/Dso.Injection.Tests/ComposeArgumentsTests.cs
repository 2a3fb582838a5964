using Dso.Injection.Compose;

namespace Dso.Injection.Tests;

public sealed class ComposeArgumentsTests
{
    [Fact]
    public void UpArguments_LoseTheProjectOptions_AndKeepTheRestInOrder()
    {
        var (options, rest) = ComposeArguments.Split(
            ["-d", "-f", "a.yaml", "--scale", "api=2", "--file=b.yaml", "-p", "shop", "--profile", "dev", "--env-file", "x.env", "--project-directory=/srv", "api"],
            anywhere: true);

        Assert.Equal(["a.yaml", "b.yaml"], options.Files);
        Assert.Equal("shop", options.ProjectName);
        Assert.Equal("/srv", options.ProjectDirectory);
        Assert.Equal("x.env", options.EnvFile);
        Assert.Equal(["dev"], options.Profiles);
        Assert.Equal(["-d", "--scale", "api=2", "api"], rest);
    }

    [Fact]
    public void ComposePassThrough_StopsAtTheSubcommand_SoItsOwnFlagsAreKept()
    {
        var (options, rest) = ComposeArguments.Split(["-f", "a.yaml", "run", "-p", "8080:80", "api"], anywhere: false);

        Assert.Equal(["a.yaml"], options.Files);
        Assert.Null(options.ProjectName);
        Assert.Equal(["run", "-p", "8080:80", "api"], rest);
    }

    [Fact]
    public void AnOptionWithoutItsValue_IsAUsageError() =>
        Assert.Equal("-f needs a value", Assert.Throws<UsageException>(() => ComposeArguments.Split(["up", "-f"], anywhere: true)).Message);
}
