using Dso.Configuration;
using Dso.Testing;

namespace Dso.Core.Tests;

/// <summary>The configuration reference and JSON Schema are generated from the code; these tests keep them in step.</summary>
public sealed class ConfigDocsTests
{
    private const string Start = "<!-- generated:config-keys:start -->\n";
    private const string End = "<!-- generated:config-keys:end -->";

    private static bool Write => Environment.GetEnvironmentVariable("DSO_WRITE_DOCS") == "1";

    [Fact]
    public void ConfigurationReference_ListsEveryKeyOfTheCode()
    {
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "docs", "configuration.md");
        var text = File.ReadAllText(path);
        var start = text.IndexOf(Start, StringComparison.Ordinal) + Start.Length;
        var end = text.IndexOf(End, StringComparison.Ordinal);
        var expected = ConfigDocs.KeyTable();
        if (Write)
        {
            File.WriteAllText(path, text[..start] + expected + text[end..]);
            return;
        }

        Assert.True(text[start..end] == expected, "docs/configuration.md is out of date: run DSO_WRITE_DOCS=1 dotnet test --project tests/Dso.Core.Tests");
        Assert.Contains("| `agent.watch.polling_interval` | duration | `30s` |", expected, StringComparison.Ordinal);
        Assert.Contains("| `providers.NAME.type` | one of `local`", expected, StringComparison.Ordinal);
        Assert.Contains("| `secrets[].mappings` | map of name → string |", expected, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonSchema_MatchesTheCode()
    {
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "schema", "dso.schema.json");
        var expected = ConfigDocs.JsonSchema();
        if (Write)
        {
            File.WriteAllText(path, expected);
            return;
        }

        Assert.True(File.Exists(path) && File.ReadAllText(path) == expected, "schema/dso.schema.json is out of date: run DSO_WRITE_DOCS=1 dotnet test --project tests/Dso.Core.Tests");
        Assert.Contains("\"additionalProperties\": false", expected, StringComparison.Ordinal);
    }
}
