using Dso.Injection.Compose;

namespace Dso.Injection.Tests;

public sealed class ShellWordsTests
{
    [Theory]
    [InlineData("nginx -g 'daemon off;'", new[] { "nginx", "-g", "daemon off;" })]
    [InlineData("sh -c \"echo \\\"hi\\\" $X\"", new[] { "sh", "-c", "echo \"hi\" $X" })]
    [InlineData("  a   b\tc ", new[] { "a", "b", "c" })]
    [InlineData("a\\ b c", new[] { "a b", "c" })]
    [InlineData("''", new[] { "" })]
    public void Splits_LikeAPosixShell(string text, string[] words) =>
        Assert.Equal(words, ShellWords.Split(text, "compose.yaml:1"));

    [Fact]
    public void UnclosedQuotes_AreErrors() =>
        Assert.Contains("a single quote is never closed", Assert.Throws<DsoException>(() => ShellWords.Split("echo 'x", "compose.yaml:2")).Message, StringComparison.Ordinal);
}
