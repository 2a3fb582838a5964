using System.Text.Json;

namespace Dso.Cli.Tests;

public sealed class ValidateCommandTests
{
    [Fact]
    public async Task AllReferencesResolvable_IsValid_ExitZero()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("shop/db", "pw");
        cli.WriteFile("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      DB: dso://shop/db\n      DB_FILE: dsofile://shop/db\n");

        var run = await cli.RunAsync("validate");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("2 references in 1 service", run.StandardOutput, StringComparison.Ordinal);
        Assert.EndsWith("valid\n", run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", run.StandardOutput.Replace("compose", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_ListsEveryReferenceAndEveryProblem_ExitOne()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("shop/db", "pw");
        cli.WriteFile("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      DB: dso://shop/db\n      A: dso://shop/missing-a\n  web:\n    image: y\n    environment:\n      B: dso://vault:kv/b\n      API_TOKEN: literal-token\n      TYPO: 'dso:/shop/db'\n");

        var run = await cli.RunAsync("validate", "--json");

        Assert.Equal(1, run.ExitCode);
        using var json = JsonDocument.Parse(run.StandardOutput);
        var root = json.RootElement;
        Assert.False(root.GetProperty("valid").GetBoolean());
        var references = root.GetProperty("references").EnumerateArray().ToDictionary(r => r.GetProperty("variable").GetString()!);
        Assert.True(references["DB"].GetProperty("resolvable").GetBoolean());
        Assert.Contains("no secret named shop/missing-a", references["A"].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("compose.yaml:6", references["A"].GetProperty("where").GetString());
        Assert.Contains("provider 'vault' is not configured", references["B"].GetProperty("error").GetString(), StringComparison.Ordinal);
        var warnings = root.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.StartsWith("compose.yaml:11: service web sets API_TOKEN in plain text", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("looks like a mistyped reference", StringComparison.Ordinal));
        Assert.DoesNotContain("literal-token", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warnings_FailOnlyWithStrict()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      DB_PASSWORD: hunter2\n");

        var lenient = await cli.RunAsync("validate");
        var strict = await cli.RunAsync("validate", "--strict");

        Assert.Equal(0, lenient.ExitCode);
        Assert.Contains("warning: compose.yaml:5: service api sets DB_PASSWORD in plain text", lenient.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", lenient.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, strict.ExitCode);
    }

    [Fact]
    public async Task AMalformedReference_IsOneLineWithFileAndLine()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  api:\n    image: x\n    environment:\n      DB: dso://shop/db?mode=0400\n");

        var run = await cli.RunAsync("validate", "-f", "compose.yaml");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("dso: compose.yaml:5: service api, DB: invalid reference 'dso://shop/db?mode=0400': file options (?mode=…) apply to dsofile:// references only\n", run.StandardError);
    }
}
