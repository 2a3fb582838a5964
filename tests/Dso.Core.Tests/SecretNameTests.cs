using Dso.Secrets;

namespace Dso.Core.Tests;

public sealed class SecretNameTests
{
    [Theory]
    [InlineData("db")]
    [InlineData("myapp/db_password")]
    [InlineData("a.b-c_d/E.F/g1")]
    public void ValidNames_Pass(string name) => Assert.Null(SecretName.Problem(name));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a//b", "empty segment")]
    [InlineData("a/../b", "'..' segment")]
    [InlineData("./a", "'.' segment")]
    [InlineData("clé", "character 'é'")]
    [InlineData("a\tb", "character '\\x09'")]
    [InlineData("aws:prod/db", "character ':'")]
    public void InvalidNames_SayWhy(string name, string reason)
    {
        var error = Assert.Throws<DsoException>(() => SecretName.Validate(name));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("example: myapp/db_password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NamesLongerThan255_AreRefused() =>
        Assert.Contains("limit is 255", SecretName.Problem(new string('a', 256)), StringComparison.Ordinal);
}
