using System.Text.Json;

namespace Dso.Cli.Tests;

public sealed class MigrateCommandTests
{
    private const string DbPassword = "Xk9#pq2-Lm7vR4tW";
    private const string ApiToken = "tok_8f3a9c2e7b1d4f6a0e5c";
    private const string StripeKey = "sk_live_51HdQ2kLmNoPqRsTuVwXyZ01";
    private const string SessionSecret = "q8Zr3mN7xV2bK9pL4wT6yH1c";
    private const string PgPass = "pg-S3cr3t-Value";
    private const string RandomLooking = "A7f3K9q2Lm8Zx4Rt6Yv1Nb5C";

    /// <summary>A project shaped like real ones: anchors and merge keys, extends from another file, env_file lists, `.env` interpolation, list-form environment.</summary>
    private static void WriteRealWorldProject(VaultCliFixture cli)
    {
        cli.WriteFile("compose.yaml", $$"""
            # shop: api and worker share their database settings
            x-db: &db
              DB_HOST: db
              DB_PASSWORD: "{{DbPassword}}"   # the shared password
            services:
              api:
                extends:
                  file: base.yaml
                  service: app
                env_file:
                  - common.env
                  - path: app.env
                environment:
                  <<: *db
                  LOG_LEVEL: debug
                  PORT: 8080
                  DATABASE_URL: postgres://shop:${PG_PASS}@db/shop
                  UPSTREAM_KEY: {{RandomLooking}}
                  DSO_KEPT_PASSWORD: keep-me-please
              worker:
                image: busybox
                environment:
                  - DB_HOST=db
                  - DB_PASSWORD={{DbPassword}}
                  - SESSION_SECRET={{SessionSecret}}
                  - QUEUE=jobs
            """);
        cli.WriteFile("base.yaml", $"""
            services:
              app:
                image: busybox
                environment:
                  API_TOKEN: {ApiToken}
                  REGION: eu-west-1
            """);
        cli.WriteFile("common.env", "TZ=UTC\nCACHE_DIR=/var/cache/shop\n");
        cli.WriteFile("app.env", $"# payments\nSTRIPE_SECRET_KEY={StripeKey}\nCURRENCY=EUR\n");
        cli.WriteFile(".env", $"PG_PASS={PgPass}\n");
    }

    private static readonly string[] Values = [DbPassword, ApiToken, StripeKey, SessionSecret, PgPass, RandomLooking];

    private static Dictionary<string, byte[]> Snapshot(VaultCliFixture cli) =>
        Directory.GetFiles(cli.Home, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(cli.Home, f), File.ReadAllBytes);

    private static async Task<string> GetAsync(VaultCliFixture cli, string name)
    {
        var get = await cli.RunAsync("secret", "get", name);
        Assert.True(get.ExitCode == 0, get.ToString());
        return get.StandardOutput;
    }

    [Fact]
    public async Task RealWorldProject_ImportsEverySecret_WritesCopiesWithReferences_LeavesOriginalsAlone()
    {
        using var cli = new VaultCliFixture();
        WriteRealWorldProject(cli);
        var before = Snapshot(cli);

        var run = await cli.RunAsync("migrate", "--project", "shop", "--keep", "DSO_KEPT_PASSWORD");

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var (file, bytes) in before.Where(f => !f.Key.StartsWith(".dso", StringComparison.Ordinal)))
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(cli.Home, file)));
        }

        // One secret per value; the shared password is one secret, the rest per variable.
        Assert.Equal(DbPassword, await GetAsync(cli, "shop/DB_PASSWORD"));
        Assert.Equal(ApiToken, await GetAsync(cli, "shop/API_TOKEN"));
        Assert.Equal(StripeKey, await GetAsync(cli, "shop/STRIPE_SECRET_KEY"));
        Assert.Equal(SessionSecret, await GetAsync(cli, "shop/SESSION_SECRET"));
        Assert.Equal($"postgres://shop:{PgPass}@db/shop", await GetAsync(cli, "shop/DATABASE_URL"));
        Assert.Equal(RandomLooking, await GetAsync(cli, "shop/UPSTREAM_KEY"));
        var list = await cli.RunAsync("secret", "list", "--json");
        Assert.Equal(6, JsonDocument.Parse(list.StandardOutput).RootElement.EnumerateArray().Count());

        // The copies: every edited file and every file that points at one; comments, anchors and plain settings kept.
        var compose = File.ReadAllText(Path.Combine(cli.Home, "compose.dso.yaml"));
        Assert.Contains("# the shared password", compose, StringComparison.Ordinal);
        Assert.Contains("x-db: &db", compose, StringComparison.Ordinal);
        Assert.Contains("DB_PASSWORD: dso://shop/DB_PASSWORD", compose, StringComparison.Ordinal);
        Assert.Contains("- DB_PASSWORD=dso://shop/DB_PASSWORD", compose, StringComparison.Ordinal);
        Assert.Contains("- SESSION_SECRET=dso://shop/SESSION_SECRET", compose, StringComparison.Ordinal);
        Assert.Contains("DATABASE_URL: dso://shop/DATABASE_URL", compose, StringComparison.Ordinal);
        Assert.Contains("file: base.dso.yaml", compose, StringComparison.Ordinal);
        Assert.Contains("- path: app.env.dso", compose, StringComparison.Ordinal);
        Assert.Contains("- common.env\n", compose, StringComparison.Ordinal);
        Assert.Contains("DSO_KEPT_PASSWORD: keep-me-please", compose, StringComparison.Ordinal);
        Assert.Contains("PORT: 8080", compose, StringComparison.Ordinal);
        Assert.Contains("API_TOKEN: dso://shop/API_TOKEN\n      REGION: eu-west-1", File.ReadAllText(Path.Combine(cli.Home, "base.dso.yaml")), StringComparison.Ordinal);
        Assert.Equal("# payments\nSTRIPE_SECRET_KEY=dso://shop/STRIPE_SECRET_KEY\nCURRENCY=EUR\n", File.ReadAllText(Path.Combine(cli.Home, "app.env.dso")));
        Assert.False(File.Exists(Path.Combine(cli.Home, "common.env.dso")));
        foreach (var copy in new[] { "compose.dso.yaml", "base.dso.yaml", "app.env.dso" })
        {
            var text = File.ReadAllText(Path.Combine(cli.Home, copy));
            Assert.DoesNotContain(Values, v => text.Contains(v, StringComparison.Ordinal));
        }

        // The copy is a valid project whose every secret resolves.
        var validate = await cli.RunAsync("validate", "-f", "compose.dso.yaml", "--json");
        Assert.True(validate.ExitCode == 0, validate.ToString());
        var references = JsonDocument.Parse(validate.StandardOutput).RootElement.GetProperty("references").EnumerateArray()
            .Select(r => $"{r.GetProperty("service").GetString()}.{r.GetProperty("variable").GetString()}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["api.API_TOKEN", "api.DATABASE_URL", "api.DB_PASSWORD", "api.STRIPE_SECRET_KEY", "api.UPSTREAM_KEY", "worker.DB_PASSWORD", "worker.SESSION_SECRET"],
            references);

        // What the user reads: the plan, the next command, where plain text is left; never a value.
        Assert.Contains("api      STRIPE_SECRET_KEY", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("app.env:2", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("next: docker dso up -f compose.dso.yaml", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(".env:1 (PG_PASS)", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("rotate", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(Values, v => (run.StandardOutput + run.StandardError).Contains(v, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DryRun_ShowsThePlan_ImportsAndWritesNothing()
    {
        using var cli = new VaultCliFixture();
        WriteRealWorldProject(cli);
        var before = Snapshot(cli);

        var run = await cli.RunAsync("migrate", "--dry-run");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(before.Keys.Order(), Snapshot(cli).Keys.Order());
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(Path.Combine(cli.Home, f.Key))));
        Assert.Contains("would write compose.dso.yaml", run.StandardOutput, StringComparison.Ordinal);
        Assert.EndsWith("dry run: nothing was imported or written\n", run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(Values, v => (run.StandardOutput + run.StandardError).Contains(v, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_DescribesEveryItemAndFile()
    {
        using var cli = new VaultCliFixture();
        WriteRealWorldProject(cli);

        var run = await cli.RunAsync("migrate", "--project", "shop", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var root = JsonDocument.Parse(run.StandardOutput).RootElement;
        Assert.False(root.GetProperty("dryRun").GetBoolean());
        Assert.Equal(7, root.GetProperty("imported").GetInt32()); // DSO_KEPT_PASSWORD too: no --keep here
        var items = root.GetProperty("items").EnumerateArray().ToList();
        var token = Assert.Single(items, i => i.GetProperty("variable").GetString() == "API_TOKEN");
        Assert.Equal("api", token.GetProperty("service").GetString());
        Assert.Equal("shop/API_TOKEN", token.GetProperty("secret").GetString());
        Assert.Equal("name", token.GetProperty("reason").GetString());
        Assert.Equal("base.yaml:5", token.GetProperty("source").GetString());
        Assert.Equal("entropy", Assert.Single(items, i => i.GetProperty("variable").GetString() == "UPSTREAM_KEY").GetProperty("reason").GetString());
        Assert.Equal("password in URL", Assert.Single(items, i => i.GetProperty("variable").GetString() == "DATABASE_URL").GetProperty("reason").GetString());
        Assert.Equal(3, root.GetProperty("files").GetArrayLength());
        Assert.StartsWith("docker dso up -f compose.dso.yaml", root.GetProperty("command").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Values, v => run.StandardOutput.Contains(v, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DifferentValuesForOneVariable_BecomeOneSecretPerService()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  a:\n    image: x\n    environment:\n      API_TOKEN: token-of-a\n  b:\n    image: x\n    environment:\n      API_TOKEN: token-of-b\n");

        var run = await cli.RunAsync("migrate", "--project", "p");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("token-of-a", await GetAsync(cli, "p/a/API_TOKEN"));
        Assert.Equal("token-of-b", await GetAsync(cli, "p/b/API_TOKEN"));
        Assert.Equal(
            "services:\n  a:\n    image: x\n    environment:\n      API_TOKEN: dso://p/a/API_TOKEN\n  b:\n    image: x\n    environment:\n      API_TOKEN: dso://p/b/API_TOKEN\n",
            File.ReadAllText(Path.Combine(cli.Home, "compose.dso.yaml")));
    }

    [Fact]
    public async Task SeReferences_AreLeftAsWritten_OnlyPlainTextMoves()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  a:\n    image: x\n    environment:\n      API_TOKEN: se://docker/api/token\n      DB_PASSWORD: plain-password-1\n");
        await cli.SetAsync("docker/api/token", "from-the-vault");

        var run = await cli.RunAsync("migrate", "--project", "p");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("plain-password-1", await GetAsync(cli, "p/DB_PASSWORD"));
        Assert.Equal(
            "services:\n  a:\n    image: x\n    environment:\n      API_TOKEN: se://docker/api/token\n      DB_PASSWORD: dso://p/DB_PASSWORD\n",
            File.ReadAllText(Path.Combine(cli.Home, "compose.dso.yaml")));
    }

    [Fact]
    public async Task AnExistingCopy_OrAVaultSecretWithAnotherValue_IsRefused_AndNothingChanges()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  a:\n    image: x\n    environment:\n      DB_PASSWORD: new-password\n");
        await cli.SetAsync("p/DB_PASSWORD", "old-password");
        var before = Snapshot(cli);

        var conflict = await cli.RunAsync("migrate", "--project", "p");

        Assert.Equal(1, conflict.ExitCode);
        Assert.Equal("dso: the vault already holds p/DB_PASSWORD with another value; pass --project to choose another prefix, or --force to store the new value as its next version; nothing was imported or written\n", conflict.StandardError);
        Assert.Equal(before.Keys.Order(), Snapshot(cli).Keys.Order());
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(Path.Combine(cli.Home, f.Key))));

        cli.WriteFile("compose.dso.yaml", "mine\n");
        var existing = await cli.RunAsync("migrate", "--project", "q");
        Assert.Equal(1, existing.ExitCode);
        Assert.Contains("compose.dso.yaml already exists", existing.StandardError, StringComparison.Ordinal);
        Assert.Equal("mine\n", File.ReadAllText(Path.Combine(cli.Home, "compose.dso.yaml")));
        Assert.Equal(1, (await cli.RunAsync("secret", "get", "q/DB_PASSWORD")).ExitCode);

        var forced = await cli.RunAsync("migrate", "--project", "p", "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Equal("new-password", await GetAsync(cli, "p/DB_PASSWORD"));
        Assert.Equal("old-password", await GetAsync(cli, "p/DB_PASSWORD@1"));
        Assert.Contains("DB_PASSWORD: dso://p/DB_PASSWORD", File.ReadAllText(Path.Combine(cli.Home, "compose.dso.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunningAgain_WithTheSameValues_IsUnchangedInTheVault()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  a:\n    image: x\n    environment:\n      DB_PASSWORD: same\n");
        Assert.Equal(0, (await cli.RunAsync("migrate", "--project", "p")).ExitCode);

        var again = await cli.RunAsync("migrate", "--project", "p", "--force");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("(0 new, 0 updated, 1 unchanged)", again.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, (await cli.RunAsync("secret", "get", "p/DB_PASSWORD@2")).ExitCode);
    }

    [Fact]
    public async Task NothingToMigrate_SaysSo_AndWritesNothing()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  a:\n    image: x\n    environment:\n      DB_PASSWORD: dso://p/db\n      FROM_SHELL_PASSWORD:\n      PORT: '8080'\n      ENABLED: 'true'\n      KEY_FILE: /run/secrets/key\n");

        var run = await cli.RunAsync("migrate");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.EndsWith("nothing to do\n", run.StandardOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cli.Home, "compose.dso.yaml")));
    }

    [Fact]
    public async Task AValueThatCannotBeASecretName_IsOneClearError()
    {
        using var cli = new VaultCliFixture();
        cli.WriteFile("compose.yaml", "services:\n  a:\n    image: x\n    environment:\n      DB_PASSWORD: pw\n");

        var run = await cli.RunAsync("migrate", "--project", "Bad Prefix!");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("dso: --project 'Bad Prefix!': ", run.StandardError, StringComparison.Ordinal);
        Assert.Single(run.StandardError.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(Path.Combine(cli.Home, "compose.dso.yaml")));
    }
}
