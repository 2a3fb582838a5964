using System.Text;
using System.Text.Json;

namespace Dso.Cli.Tests;

public sealed class SecretCommandTests
{
    [Fact]
    public async Task SetFromPipe_ThenGet_PrintsTheValueExactly_WithoutTheTrailingNewline()
    {
        using var cli = new VaultCliFixture();

        var set = await cli.RunAsync("hunter2\n"u8.ToArray(), "secret", "set", "db/password");
        var get = await cli.RunAsync("secret", "get", "db/password");

        Assert.Equal(0, set.ExitCode);
        Assert.Contains("Created db/password (version 1)", set.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, get.ExitCode);
        Assert.Equal("hunter2"u8.ToArray(), get.StandardOutputBytes);
    }

    [Fact]
    public async Task GetWithNewlineFlag_AddsOneNewline()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("a/b", "v");

        var get = await cli.RunAsync("secret", "get", "a/b", "-n");

        Assert.Equal("v\n", get.StandardOutput);
    }

    [Fact]
    public async Task SetFromFile_KeepsEveryByte()
    {
        using var cli = new VaultCliFixture();
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).Concat("\n\n"u8.ToArray()).ToArray();
        var path = Path.Combine(cli.Home, "blob.bin");
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);

        var set = await cli.RunAsync("secret", "set", "bin/blob", "--from-file", "blob.bin");
        var get = await cli.RunAsync("secret", "get", "bin/blob");

        Assert.Equal(0, set.ExitCode);
        Assert.Equal(bytes, get.StandardOutputBytes);
    }

    [Fact]
    public async Task MetadataCommands_NeverPrintTheValue()
    {
        using var cli = new VaultCliFixture();
        const string canary = "canary-4f1d9b2e7a";
        await cli.SetAsync("app/token", canary);

        var runs = new[]
        {
            await cli.RunAsync("secret", "get", "app/token", "--json"),
            await cli.RunAsync("secret", "list"),
            await cli.RunAsync("secret", "list", "--json"),
            await cli.RunAsync("secret", "history", "app/token"),
            await cli.RunAsync("secret", "history", "app/token", "--json"),
            await cli.RunAsync(Encoding.UTF8.GetBytes(canary), "secret", "set", "app/token"),
        };

        Assert.All(runs, run =>
        {
            Assert.Equal(0, run.ExitCode);
            Assert.DoesNotContain(canary, run.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(canary, run.StandardError, StringComparison.Ordinal);
        });
        using var json = JsonDocument.Parse(runs[0].StandardOutput);
        Assert.Equal("app/token", json.RootElement.GetProperty("name").GetString());
        Assert.Equal(canary.Length, json.RootElement.GetProperty("length").GetInt32());
    }

    [Fact]
    public async Task ListHistoryAndVersions_ShowWhatWasStored()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("shop/db", "one");
        await cli.SetAsync("shop/db", "two");
        await cli.SetAsync("blog/db", "x");

        var list = await cli.RunAsync("secret", "list", "shop/", "--json");
        var history = await cli.RunAsync("secret", "history", "shop/db", "--json");
        var old = await cli.RunAsync("secret", "get", "shop/db@1");

        using var listJson = JsonDocument.Parse(list.StandardOutput);
        var item = Assert.Single(listJson.RootElement.EnumerateArray());
        Assert.Equal("shop/db", item.GetProperty("name").GetString());
        Assert.Equal(2, item.GetProperty("version").GetInt32());
        using var historyJson = JsonDocument.Parse(history.StandardOutput);
        Assert.Equal([2, 1], historyJson.RootElement.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal("one", old.StandardOutput);
    }

    [Fact]
    public async Task Remove_DeletesTheSecret()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("a/b", "v");

        var rm = await cli.RunAsync("secret", "rm", "a/b");
        var get = await cli.RunAsync("secret", "get", "a/b");
        var again = await cli.RunAsync("secret", "rm", "a/b");

        Assert.Equal(0, rm.ExitCode);
        Assert.Equal(1, get.ExitCode);
        Assert.Equal("dso: no secret named a/b in vault " + cli.VaultPath + "; 'docker dso secret list' shows what there is\n", get.StandardError);
        Assert.Equal(1, again.ExitCode);
    }

    [Fact]
    public async Task Import_StoresEveryKeyUnderTheProject_AndWarnsAboutThePlaintextFile()
    {
        using var cli = new VaultCliFixture();
        var env = cli.WriteFile("app.env", "# creds\nexport DB_PASSWORD=\"p w\\n\"\nAPI_KEY='k#1'\nEMPTY=\nDB_PASSWORD=final\n");

        var import = await cli.RunAsync("secret", "import", env, "--project", "shop");
        var again = await cli.RunAsync("secret", "import", env, "--project", "shop");
        var db = await cli.RunAsync("secret", "get", "shop/DB_PASSWORD");
        var api = await cli.RunAsync("secret", "get", "shop/API_KEY");

        Assert.Equal(0, import.ExitCode);
        Assert.Contains("Imported 2 secrets", import.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("2 new, 0 updated, 0 unchanged; skipped 1 with an empty value (EMPTY)", import.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("still holds these values in plaintext", import.StandardError, StringComparison.Ordinal);
        Assert.Contains("0 new, 0 updated, 2 unchanged", again.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("final", db.StandardOutput);
        Assert.Equal("k#1", api.StandardOutput);
    }

    [Fact]
    public async Task Import_WithABadLine_ImportsNothing()
    {
        using var cli = new VaultCliFixture();
        var before = await File.ReadAllBytesAsync(cli.VaultPath, TestContext.Current.CancellationToken);
        var env = cli.WriteFile("bad.env", "GOOD=1\nBROKEN\n");

        var import = await cli.RunAsync("secret", "import", env);

        Assert.Equal(1, import.ExitCode);
        Assert.Equal($"dso: {env}:2:7: expected '=' after the variable name (write NAME=VALUE; quote a value that spans lines)\n", import.StandardError);
        Assert.Equal(before, await File.ReadAllBytesAsync(cli.VaultPath, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("\n", "is empty")]
    public async Task Set_EmptyValue_IsRefused(string stdin, string reason)
    {
        using var cli = new VaultCliFixture();

        var run = await cli.RunAsync(Encoding.UTF8.GetBytes(stdin), "secret", "set", "a/b");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(reason, run.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, (await cli.RunAsync("secret", "get", "a/b")).ExitCode);
    }

    [Fact]
    public async Task Set_OverOneMebibyte_IsRefused()
    {
        using var cli = new VaultCliFixture();

        var run = await cli.RunAsync(new byte[(1024 * 1024) + 10], "secret", "set", "a/b");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("1 MiB", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Set_ValueIsNeverTakenFromArguments()
    {
        using var cli = new VaultCliFixture();

        var run = await cli.RunAsync("secret", "set", "a/b", "hunter2");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.DoesNotContain("hunter2", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_WithoutAVault_SayHowToCreateOne()
    {
        using var cli = new VaultCliFixture(initialize: false);

        var run = await cli.RunAsync("secret", "list");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"dso: no vault at {cli.VaultPath}; create one with 'docker dso init' (or point DSO_VAULT at yours)\n", run.StandardError);
    }

    [Fact]
    public async Task Init_Twice_RefusesAndLeavesTheVaultUntouched()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("a/b", "v");
        var before = await File.ReadAllBytesAsync(cli.VaultPath, TestContext.Current.CancellationToken);

        var run = await cli.RunAsync("init");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("already exists", run.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(cli.VaultPath, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("header magic", 3)]
    [InlineData("kdf parameters", 14)]
    [InlineData("salt", 30)]
    [InlineData("wrapped key", 70)]
    [InlineData("entry count", 102)]
    [InlineData("first entry", 120)]
    [InlineData("last entry", -40)]
    [InlineData("mac", -5)]
    public async Task AFlippedByte_MakesEveryReadingCommandFail_WithOneLine_AndChangesNothing(string where, int offset)
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("a/first", "one");
        await cli.SetAsync("a/second", "two");
        var bytes = await File.ReadAllBytesAsync(cli.VaultPath, TestContext.Current.CancellationToken);
        bytes[offset >= 0 ? offset : bytes.Length + offset] ^= 0xFF;
        await File.WriteAllBytesAsync(cli.VaultPath, bytes, TestContext.Current.CancellationToken);

        foreach (var args in new[] { new[] { "secret", "list" }, ["secret", "get", "a/first"], ["secret", "history", "a/second"], ["secret", "rm", "a/first"] })
        {
            var run = await cli.RunAsync("new-value"u8.ToArray(), args);

            Assert.True(run.ExitCode == 1, $"{where}: {string.Join(' ', args)} → {run}");
            Assert.Empty(run.StandardOutput);
            Assert.Single(run.StandardError.TrimEnd('\n').Split('\n'));
        }

        var set = await cli.RunAsync("new-value"u8.ToArray(), "secret", "set", "a/third");
        Assert.Equal(1, set.ExitCode);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(cli.VaultPath, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PassphraseVault_FromEnvironment_AndAClearErrorWithoutOne()
    {
        using var cli = new VaultCliFixture(initialize: false, new Dictionary<string, string> { ["DSO_PASSPHRASE"] = "long enough passphrase" });
        var init = await cli.RunAsync("init", "--passphrase");
        await cli.SetAsync("a/b", "v");
        cli.Environment.Remove("DSO_PASSPHRASE");

        var withoutPassphrase = await cli.RunAsync("secret", "get", "a/b");
        cli.Environment["DSO_PASSPHRASE"] = "not the passphrase";
        var wrong = await cli.RunAsync("secret", "get", "a/b");

        Assert.Equal(0, init.ExitCode);
        Assert.Contains("protected by a passphrase", init.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, withoutPassphrase.ExitCode);
        Assert.Contains("no terminal to ask on", withoutPassphrase.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("wrong passphrase", wrong.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("not the passphrase", wrong.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rekey_ToANewKeyFile_OnlyTheNewKeyOpensTheVault()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("a/b", "kept");
        var newKey = Path.Combine(cli.Home, "new.key");

        var rekey = await cli.RunAsync("rekey", "--key-file", newKey);
        var withOld = await cli.RunAsync("secret", "get", "a/b");
        cli.Environment["DSO_KEY_FILE"] = newKey;
        var withNew = await cli.RunAsync("secret", "get", "a/b");

        Assert.Equal(0, rekey.ExitCode);
        Assert.Equal(1, withOld.ExitCode);
        Assert.Equal("kept", withNew.StandardOutput);
    }

    [Fact]
    public async Task MasterKeyInEnvironment_UnlocksAKeyVault()
    {
        using var cli = new VaultCliFixture();
        await cli.SetAsync("a/b", "v");
        var key = (await File.ReadAllTextAsync(cli.KeyPath, TestContext.Current.CancellationToken)).Trim();
        File.Delete(cli.KeyPath);
        cli.Environment["DSO_MASTER_KEY"] = key;

        var get = await cli.RunAsync("secret", "get", "a/b");

        Assert.Equal("v", get.StandardOutput);
    }
}
