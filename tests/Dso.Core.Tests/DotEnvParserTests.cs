using Dso.DotEnv;
using FsCheck;
using FsCheck.Fluent;

namespace Dso.Core.Tests;

public sealed class DotEnvParserTests
{
    [Fact]
    public void Parses_CommentsBlankLinesExportAndQuotes()
    {
        const string text = """
            # database
            export DB_USER=app
            DB_PASSWORD = "p@ss w\"rd\n2"   # trailing comment
            SINGLE='literal \n $HOME # not a comment'
            UNQUOTED=value with spaces   # comment
            HASH=abc#def
            EMPTY=
            MULTI="line one
            line two"

            """;

        var entries = DotEnvParser.Parse(text, ".env").ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal("app", entries["DB_USER"]);
        Assert.Equal("p@ss w\"rd\n2", entries["DB_PASSWORD"]);
        Assert.Equal("literal \\n $HOME # not a comment", entries["SINGLE"]);
        Assert.Equal("value with spaces", entries["UNQUOTED"]);
        Assert.Equal("abc#def", entries["HASH"]);
        Assert.Equal(string.Empty, entries["EMPTY"]);
        Assert.Equal("line one\nline two", entries["MULTI"]);
    }

    [Fact]
    public void ReportsTheLineEachEntryStartsOn()
    {
        var entries = DotEnvParser.Parse("A=1\n\nB=\"x\ny\"\nC=3\n", ".env");

        Assert.Equal([1, 3, 5], entries.Select(e => e.Line));
    }

    [Fact]
    public void AcceptsWindowsLineEndings()
    {
        var entries = DotEnvParser.Parse("A=1\r\nB=two\r\n", ".env");

        Assert.Equal(["1", "two"], entries.Select(e => e.Value));
    }

    [Theory]
    [InlineData("A=1\nJUSTAKEY\n", ".env:2:9: expected '=' after the variable name")]
    [InlineData("A=\"open\n", ".env:1:3: the value's opening \" is never closed")]
    [InlineData("A='x' y\n", ".env:1:7: unexpected text after the closing quote")]
    [InlineData("=value\n", ".env:1:1: expected a variable name")]
    [InlineData("1ABC=x\n", ".env:1:1: expected a variable name")]
    public void BadLines_AreOneClearErrorWithFileLineAndColumn(string text, string expectedStart)
    {
        var error = Assert.Throws<DsoException>(() => DotEnvParser.Parse(text, ".env"));

        Assert.StartsWith(expectedStart, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n")]
    [InlineData("A=1\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n")]
    [InlineData("TOKEN='ghp_R4nd0mT0k3nV4lu3' ghp_S3c0ndT0k3nV4lu3\n")]
    [InlineData("9ghp_R4nd0mT0k3nV4lu3=x\n")]
    [InlineData("API_KEY=\"sk-live-0123456789abcdef\n")]
    public void Errors_NeverQuoteTheFilesText(string text)
    {
        var error = Assert.Throws<DsoException>(() => DotEnvParser.Parse(text, ".env"));

        foreach (var word in text.Split(['\n', '=', '\'', '"', ' ', '-'], StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length >= 6))
        {
            Assert.DoesNotContain(word, error.Message, StringComparison.Ordinal);
        }

        Assert.Matches(@"^\.env:\d+:\d+: ", error.Message);
    }

    [Fact]
    public void AnyInput_EitherParsesOrFailsWithADsoException()
    {
        var alphabet = "AB_=\"'\\#\n\r\t x$e".ToCharArray();
        var inputs = Gen.ArrayOf(Gen.Elements(alphabet)).Select(chars => new string(chars));
        Prop.ForAll(inputs.ToArbitrary(), text =>
        {
            try
            {
                DotEnvParser.Parse(text, ".env");
            }
            catch (DsoException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void DoubleQuotedValues_RoundTripAnyText()
    {
        var values = Gen.ArrayOf(Gen.Elements("ab \"\\\n\t$#'=é".ToCharArray())).Select(c => new string(c));
        Prop.ForAll(values.ToArbitrary(), value =>
        {
            var escaped = value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
            var parsed = DotEnvParser.Parse($"KEY=\"{escaped}\"\n", ".env");
            return parsed.Count == 1 && parsed[0].Value == value;
        }).QuickCheckThrowOnFailure();
    }
}
