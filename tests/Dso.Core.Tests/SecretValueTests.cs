using Dso.Secrets;

namespace Dso.Core.Tests;

public sealed class SecretValueTests
{
    [Fact]
    public void Formatting_NeverShowsTheValue()
    {
        using var value = SecretValue.FromString("hunter2");

        Assert.Equal("[redacted]", value.ToString());
        Assert.Equal("x=[redacted]", $"x={value}");
        Assert.Equal("hunter2", value.RevealString());
    }

    [Fact]
    public void Dispose_ZeroesTheBufferAndForbidsReading()
    {
        var value = SecretValue.FromString("hunter2");

        value.Dispose();

        Assert.Throws<ObjectDisposedException>(() => value.Reveal().Length);
    }
}
