using Dso.Injection.Compose;
using Dso.Testing;

namespace Dso.Injection.Tests;

public sealed class ComposeLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new("dso-compose-");

    [Fact]
    public void FindsComposeYamlAndItsOverride_FromASubdirectory_AndNamesTheProjectAfterTheDirectory()
    {
        var project = _dir.Combine("My Shop");
        Directory.CreateDirectory(Path.Combine(project, "sub"));
        File.WriteAllText(Path.Combine(project, "compose.yaml"), "services:\n  api:\n    image: a\n    environment:\n      A: '1'\n");
        File.WriteAllText(Path.Combine(project, "compose.override.yaml"), "services:\n  api:\n    environment:\n      B: '2'\n");

        var loaded = Load(ComposeOptions.Default, cwd: Path.Combine(project, "sub"));

        Assert.Equal("myshop", loaded.Name);
        Assert.Equal(project, loaded.Directory);
        Assert.Equal([Path.Combine(project, "compose.yaml"), Path.Combine(project, "compose.override.yaml")], loaded.Files);
        Assert.Equal(["A", "B"], loaded.Find("api")!.EffectiveEnvironment.Keys.Order());
    }

    [Fact]
    public void Include_BringsInTheIncludedFilesServices_WithTheirOwnDirectoryAndEnv()
    {
        _dir.WriteFile("compose.yaml", "include:\n  - db/compose.yaml\n  - path: cache/compose.yaml\n    env_file: cache/cache.env\nservices:\n  api:\n    image: api\n    environment:\n      DB: dso://shop/db\n");
        _dir.WriteFile("db/compose.yaml", "services:\n  db:\n    image: postgres:${PG_TAG}\n    env_file: db.env\n    environment:\n      POSTGRES_PASSWORD_FILE: dsofile://shop/pg\n");
        _dir.WriteFile("db/.env", "PG_TAG=16\n");
        _dir.WriteFile("db/db.env", "POSTGRES_USER=app\n");
        _dir.WriteFile("cache/compose.yaml", "services:\n  cache:\n    image: redis:${REDIS_TAG}\n");
        _dir.WriteFile("cache/cache.env", "REDIS_TAG=7\n");
        _dir.WriteFile("override.yaml", "services:\n  db:\n    labels:\n      dso.strategy: restart\n");

        var loaded = Load(new ComposeOptions(["compose.yaml", "override.yaml"], null, null, null, []));

        Assert.Equal(["db", "cache", "api"], loaded.Services.Select(s => s.Name));
        var db = loaded.Find("db")!;
        Assert.Equal("postgres:16", db.Image);
        Assert.Equal("app", db.EffectiveEnvironment["POSTGRES_USER"].Value);
        Assert.Equal("dsofile://shop/pg", db.EffectiveEnvironment["POSTGRES_PASSWORD_FILE"].Value);
        Assert.Equal("restart", db.Labels["dso.strategy"]);
        Assert.Equal("redis:7", loaded.Find("cache")!.Image);
        Assert.Equal(_dir.Path, loaded.Directory);
    }

    [Fact]
    public void Include_OfAServiceTheIncludingFileDefinesToo_IsRefused_AsComposeRefusesIt()
    {
        _dir.WriteFile("compose.yaml", "include:\n  - db/compose.yaml\nservices:\n  db:\n    image: other\n");
        _dir.WriteFile("db/compose.yaml", "services:\n  db:\n    image: postgres\n");

        var error = Assert.Throws<DsoException>(() => Load(new ComposeOptions(["compose.yaml"], null, null, null, [])));

        Assert.Contains("service db is already defined by the included file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Include_OfAFileThatIsMissing_NamesIt()
    {
        _dir.WriteFile("compose.yaml", "include:\n  - nope/compose.yaml\nservices:\n  api:\n    image: x\n");

        var error = Assert.Throws<DsoException>(() => Load(new ComposeOptions(["compose.yaml"], null, null, null, [])));

        Assert.Equal($"compose.yaml:2: include: {_dir.Combine("nope", "compose.yaml")} does not exist", error.Message[(error.Message.IndexOf("compose.yaml:", StringComparison.Ordinal))..]);
    }

    [Fact]
    public void LaterFiles_OverrideScalars_AndMergeEnvironmentAndLabels()
    {
        _dir.WriteFile("a.yaml", "version: '3.8'\nservices:\n  api:\n    image: one\n    command: run one\n    environment:\n      A: a\n      B: b\n    labels:\n      x: '1'\n");
        _dir.WriteFile("b.yaml", "version: '3.8'\nservices:\n  api:\n    image: two\n    environment:\n      - B=bb\n      - C=c\n    labels: [\"y=2\"]\n");

        var api = Load(new ComposeOptions(["a.yaml", "b.yaml"], null, null, null, [])).Find("api")!;

        Assert.Equal("two", api.Image);
        Assert.Equal(["run", "one"], api.Command);
        Assert.Equal(new Dictionary<string, string?> { ["A"] = "a", ["B"] = "bb", ["C"] = "c" }, api.EffectiveEnvironment.ToDictionary(e => e.Key, e => e.Value.Value));
        Assert.Equal(new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" }, api.Labels);
    }

    [Fact]
    public void DotEnv_FeedsInterpolation_TheShellWins_AndItCanNameTheProject()
    {
        _dir.WriteFile(".env", "APP=shop\nTAG=1.0\nCOMPOSE_PROJECT_NAME=fromdotenv\n");
        _dir.WriteFile("compose.yaml", "services:\n  api:\n    image: ${APP}:${TAG}\n    environment:\n      DB: dso://${APP}/db\n");

        var loaded = Load(ComposeOptions.Default, environment: new() { ["TAG"] = "2.0" });

        Assert.Equal("fromdotenv", loaded.Name);
        Assert.Equal("shop:2.0", loaded.Find("api")!.Image);
        Assert.Equal("dso://shop/db", loaded.Find("api")!.EffectiveEnvironment["DB"].Value);
    }

    [Fact]
    public void ProjectName_PrefersTheOption_ThenTheEnvironment_ThenNameKey()
    {
        _dir.WriteFile("compose.yaml", "name: FromFile\nservices:\n  api:\n    image: a\n");

        Assert.Equal("fromfile", Load(ComposeOptions.Default).Name);
        Assert.Equal("fromenv", Load(ComposeOptions.Default, environment: new() { ["COMPOSE_PROJECT_NAME"] = "FromEnv" }).Name);
        Assert.Equal("cli", Load(ComposeOptions.Default with { ProjectName = "cli" }, environment: new() { ["COMPOSE_PROJECT_NAME"] = "FromEnv" }).Name);
    }

    [Fact]
    public void EnvFiles_AreRead_AndEnvironmentWinsOverThem()
    {
        _dir.WriteFile("app.env", "DB_PASSWORD=dso://shop/db\nLEVEL=debug\n");
        _dir.WriteFile("compose.yaml", "services:\n  api:\n    image: a\n    env_file: app.env\n    environment:\n      LEVEL: info\n");

        var environment = Load(ComposeOptions.Default).Find("api")!.EffectiveEnvironment;

        Assert.Equal("dso://shop/db", environment["DB_PASSWORD"].Value);
        Assert.Equal("app.env:1", environment["DB_PASSWORD"].Where);
        Assert.Equal("info", environment["LEVEL"].Value);
    }

    [Fact]
    public void EntrypointAndCommand_AcceptStringsAndLists()
    {
        _dir.WriteFile("compose.yaml", "services:\n  a:\n    image: x\n    entrypoint: /bin/sh -c\n    command: ['echo $$HOME']\n  b:\n    image: x\n    entrypoint: []\n");

        var loaded = Load(ComposeOptions.Default);

        Assert.Equal(["/bin/sh", "-c"], loaded.Find("a")!.Entrypoint);
        Assert.Equal(["echo $HOME"], loaded.Find("a")!.Command);
        Assert.Equal([], loaded.Find("b")!.Entrypoint);
        Assert.Null(loaded.Find("b")!.Command);
    }

    [Fact]
    public void Profiles_DecideWhichServicesAreActive()
    {
        _dir.WriteFile("compose.yaml", "services:\n  api:\n    image: a\n  debug:\n    image: b\n    profiles: [dev]\n");

        Assert.Equal(["api"], Load(ComposeOptions.Default).ActiveServices.Select(s => s.Name));
        Assert.Equal(["api", "debug"], Load(ComposeOptions.Default with { Profiles = ["dev"] }).ActiveServices.Select(s => s.Name));
        Assert.Equal(["api", "debug"], Load(ComposeOptions.Default, environment: new() { ["COMPOSE_PROFILES"] = "dev" }).ActiveServices.Select(s => s.Name));
    }

    [Fact]
    public void YamlAnchorsAndMergeKeys_AreResolved()
    {
        _dir.WriteFile("compose.yaml", "x-common: &common\n  image: base\n  environment:\n    DB: dso://shop/db\nservices:\n  api:\n    <<: *common\n    command: serve\n");

        var api = Load(ComposeOptions.Default).Find("api")!;

        Assert.Equal("base", api.Image);
        Assert.Equal("dso://shop/db", api.EffectiveEnvironment["DB"].Value);
    }

    [Fact]
    public void Extends_InTheSameFileAndAnother_BringsTheBaseEnvironment_WithPathsFromTheBaseFile()
    {
        Directory.CreateDirectory(_dir.Combine("common"));
        _dir.WriteFile("common/base.yaml", "services:\n  base:\n    image: base\n    env_file: db.env\n    environment:\n      DB: dso://shop/db\n      LEVEL: info\n");
        _dir.WriteFile("common/db.env", "DB_USER=shop\n");
        _dir.WriteFile("compose.yaml", "services:\n  web:\n    extends:\n      file: common/base.yaml\n      service: base\n    environment:\n      LEVEL: debug\n  worker:\n    extends: web\n    command: work\n");

        var loaded = Load(ComposeOptions.Default);

        foreach (var name in new[] { "web", "worker" })
        {
            var service = loaded.Find(name)!;
            Assert.Equal("base", service.Image);
            Assert.Equal("dso://shop/db", service.EffectiveEnvironment["DB"].Value);
            Assert.Equal("debug", service.EffectiveEnvironment["LEVEL"].Value);
            Assert.Equal("shop", service.EffectiveEnvironment["DB_USER"].Value);
        }
    }

    [Theory]
    [InlineData("services:\n  a:\n    extends: b\n  b:\n    extends: a\n", "compose.yaml:3: service a extends itself")]
    [InlineData("services:\n  a:\n    extends: nope\n", "service a extends 'nope', which compose.yaml does not define")]
    [InlineData("services:\n  a:\n    extends:\n      file: gone.yaml\n      service: x\n", "which does not exist")]
    public void BadExtends_IsOneClearError(string content, string expected)
    {
        _dir.WriteFile("compose.yaml", content);

        var error = Assert.Throws<DsoException>(() => Load(ComposeOptions.Default));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("- a\n- b\n", "compose.yaml:1: the top level must be a mapping")]
    [InlineData("services:\n  api: [1]\n", "compose.yaml:2: service api must be a mapping")]
    [InlineData("services:\n  api:\n    image: a\n    environment: 5\n", "compose.yaml:4: environment of service api must be a mapping or a list of KEY=VALUE")]
    [InlineData("services:\n  api:\n    image: a\n    env_file: missing.env\n", "env_file")]
    [InlineData("volumes: {}\n", "no services defined")]
    public void BadFiles_AreOneClearError(string content, string expected)
    {
        _dir.WriteFile("compose.yaml", content);

        var error = Assert.Throws<DsoException>(() => Load(ComposeOptions.Default));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void NoComposeFile_SaysWhereItLooked() =>
        Assert.StartsWith($"no compose file in {_dir.Path} or above", Assert.Throws<DsoException>(() => Load(ComposeOptions.Default)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("My App!", "myapp")]
    [InlineData("_x-Y_1", "x-y_1")]
    public void ProjectNames_AreNormalizedAsComposeDoes(string name, string expected) =>
        Assert.Equal(expected, ComposeLoader.NormalizeProjectName(name));

    public void Dispose() => _dir.Dispose();

    private ComposeProject Load(ComposeOptions options, Dictionary<string, string>? environment = null, string? cwd = null) =>
        ComposeLoader.Load(options, environment ?? [], cwd ?? _dir.Path);
}
