using System.Text;
using System.Text.Json;

namespace Dso.Cli.Tests;

/// <summary>Commands that report what they did say it as JSON with --json, and never with a value in it.</summary>
public sealed class JsonOutputTests
{
    [Fact]
    public async Task SecretSetImportAndRemove_ReportWhatTheyDid()
    {
        using var cli = new VaultCliFixture();
        var first = await cli.RunAsync(Encoding.UTF8.GetBytes("value-one"), "secret", "set", "app/a", "--json");
        var again = await cli.RunAsync(Encoding.UTF8.GetBytes("value-one"), "secret", "set", "app/a", "--json");
        var env = cli.WriteFile("app.env", "B=value-two\nEMPTY=\n");
        var import = await cli.RunAsync("secret", "import", env, "--project", "app", "--json");
        var remove = await cli.RunAsync("secret", "rm", "app/a", "--json");

        var set = JsonDocument.Parse(first.StandardOutput).RootElement;
        Assert.Equal("app/a", set.GetProperty("name").GetString());
        Assert.Equal(1u, set.GetProperty("version").GetUInt32());
        Assert.True(set.GetProperty("created").GetBoolean());
        Assert.False(JsonDocument.Parse(again.StandardOutput).RootElement.GetProperty("changed").GetBoolean());
        var imported = JsonDocument.Parse(import.StandardOutput).RootElement;
        Assert.Equal(env, imported.GetProperty("file").GetString());
        Assert.Equal("app/B", Assert.Single(imported.GetProperty("secrets").EnumerateArray().ToList()).GetProperty("name").GetString());
        Assert.Equal("EMPTY", Assert.Single(imported.GetProperty("skipped").EnumerateArray().ToList()).GetString());
        Assert.True(JsonDocument.Parse(remove.StandardOutput).RootElement.GetProperty("removed").GetBoolean());
        Assert.DoesNotContain("value-", first.StandardOutput + import.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigValidate_Json_NamesTheFileAndItsProviders()
    {
        using var cli = new VaultCliFixture(initialize: false);
        var path = cli.WriteFile("dso.yaml", "providers:\n  files:\n    type: file\n    path: ./secrets.json\n  local:\n    type: local\ndefaults:\n  provider: files\n");

        var run = await cli.RunAsync("config", "validate", "--json", "--config", path);

        Assert.True(run.ExitCode == 0, run.ToString());
        var root = JsonDocument.Parse(run.StandardOutput).RootElement;
        Assert.Equal(path, root.GetProperty("path").GetString());
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.Equal(["files", "local"], root.GetProperty("providers").EnumerateArray().Select(p => p.GetString()!).ToList());
        Assert.Equal("files", root.GetProperty("defaultProvider").GetString());
    }
}
