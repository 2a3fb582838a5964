using Dso.Yaml;

namespace Dso.Injection.Tests;

public sealed class InterpolatorTests
{
    private static readonly Dictionary<string, string> Variables = new()
    {
        ["SET"] = "value",
        ["EMPTY"] = string.Empty,
        ["PROJECT"] = "shop",
    };

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("$SET", "value")]
    [InlineData("${SET}", "value")]
    [InlineData("a$${SET}b", "a${SET}b")]
    [InlineData("$$", "$")]
    [InlineData("${UNSET:-fallback}", "fallback")]
    [InlineData("${EMPTY:-fallback}", "fallback")]
    [InlineData("${EMPTY-fallback}", "")]
    [InlineData("${SET:+alt}", "alt")]
    [InlineData("${UNSET+alt}", "")]
    [InlineData("${UNSET:-${PROJECT}-x}", "shop-x")]
    [InlineData("dso://${PROJECT}/db", "dso://shop/db")]
    [InlineData("cost $5", "cost $5")]
    public void Substitutes_LikeCompose(string text, string expected) =>
        Assert.Equal(expected, new Interpolator(Variables).Apply(text, "compose.yaml:1"));

    [Fact]
    public void UnsetVariable_BecomesEmpty_WithAWarning()
    {
        var interpolator = new Interpolator(Variables);

        Assert.Equal("x--y", interpolator.Apply("x-$UNSET-y", "compose.yaml:3"));
        Assert.Equal(["compose.yaml:3: the UNSET variable is not set; defaulting to a blank string"], interpolator.Warnings);
    }

    [Theory]
    [InlineData("${UNSET:?set it}", "compose.yaml:1: required variable UNSET is not set: set it")]
    [InlineData("${EMPTY:?}", "compose.yaml:1: required variable EMPTY is empty")]
    [InlineData("pw-${OPEN", "compose.yaml:1: invalid interpolation: '${' is never closed (write $$ for a literal $)")]
    [InlineData("${A B}", "compose.yaml:1: invalid interpolation of A: after the name comes '}', or one of :- - :+ + :? ? and a default")]
    [InlineData("${A:}", "compose.yaml:1: invalid interpolation of A: after the name comes '}', or one of :- - :+ + :? ? and a default")]
    [InlineData("${9}", "compose.yaml:1: invalid interpolation: '${' must be followed by a variable name")]
    public void Errors_NameTheLine(string text, string message) =>
        Assert.Equal(message, Assert.Throws<DsoException>(() => new Interpolator(Variables).Apply(text, "compose.yaml:1")).Message);

    [Fact]
    public void Escape_IsUndoneByInterpolation()
    {
        const string text = "sh -c 'echo $HOME ${X} $$'";

        Assert.Equal(text, new Interpolator(Variables).Apply(Interpolator.Escape(text), "x"));
    }
}
