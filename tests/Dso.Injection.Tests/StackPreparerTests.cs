using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.Planning;
using Dso.Injection.References;
using Dso.Injection.Secrets;
using Dso.Launching;
using Dso.Processes;
using Dso.Providers;
using Dso.Testing;

namespace Dso.Injection.Tests;

public sealed class StackPreparerTests : IDisposable
{
    private readonly TempDirectory _dir = new("dso-prep-");
    private readonly string _root = $"/dev/shm/dso-prep-test-{Guid.NewGuid():N}";
    private readonly FakeImages _images = new(new()
    {
        ["pg"] = new ImageConfig(["docker-entrypoint.sh"], ["postgres"], null),
        ["plain"] = new ImageConfig(null, ["/bin/sh"], "1000"),
        ["named-user"] = new ImageConfig(null, ["run"], "nginx"),
    });

    private readonly FakeProvider _provider = new("local", new() { ["shop/db"] = "pw", ["shop/json"] = "{\"user\":\"u\",\"port\":5432}" });

    [Fact]
    public async Task ImageEntrypointAndCmd_FollowTheLauncher_WhenComposeGivesNeither()
    {
        var (prepared, overrideText) = await PrepareAsync("services:\n  db:\n    image: pg\n    environment:\n      PGPASSWORD: dso://shop/db\n");

        Assert.Equal(["db"], prepared.ManagedServices);
        Assert.Contains("\"entrypoint\":\n    - \"/.dso/dso-init\"\n    - \"--\"\n    - \"docker-entrypoint.sh\"", Normalize(overrideText), StringComparison.Ordinal);
        Assert.Contains("\"command\":\n    - \"postgres\"", Normalize(overrideText), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComposeCommand_IsLeftToCompose_AndComposeEntrypoint_DropsTheImageCmd()
    {
        var (_, overrideText) = await PrepareAsync(
            "services:\n  a:\n    image: pg\n    command: serve\n    environment:\n      X: dso://shop/db\n  b:\n    image: pg\n    entrypoint: [/custom]\n    environment:\n      X: dso://shop/db\n");

        var text = Normalize(overrideText);
        Assert.Contains("\"a\":\n    \"entrypoint\":\n    - \"/.dso/dso-init\"\n    - \"--\"\n    - \"docker-entrypoint.sh\"\n    \"volumes\"", text, StringComparison.Ordinal);
        Assert.Contains("\"b\":\n    \"entrypoint\":\n    - \"/.dso/dso-init\"\n    - \"--\"\n    - \"/custom\"\n    \"volumes\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServicesWithoutReferences_AreNotTouched_AndOneBatchResolvesAll()
    {
        var (prepared, overrideText) = await PrepareAsync(
            "services:\n  a:\n    image: pg\n    environment:\n      X: dso://shop/db\n      Y: dso://shop/json#user\n  b:\n    image: plain\n    environment:\n      Z: dso://shop/db\n  c:\n    image: plain\n");

        Assert.Equal(["a", "b"], prepared.ManagedServices);
        Assert.DoesNotContain("\"c\":", overrideText, StringComparison.Ordinal);
        Assert.Equal(1, _provider.Calls);
        Assert.Equal(2, prepared.SecretCount);
    }

    [Fact]
    public async Task Materialized_ManifestAndValues_MatchTheReferences_WithJsonKeysPicked()
    {
        await PrepareAsync("services:\n  a:\n    image: plain\n    environment:\n      USER: dso://shop/json#user\n      PORT: dso://shop/json#port\n      DB_FILE: dsofile://shop/db?name=db.txt\n");

        var directory = Path.Combine(_root, "proj", "a", "current");
        var manifest = LauncherManifest.Parse(File.ReadAllText(Path.Combine(directory, LauncherManifest.FileName)));
        var values = manifest.ToDictionary(e => e.Variable, e => File.ReadAllText(Path.Combine(directory, e.File)));
        Assert.Equal("u", values["USER"]);
        Assert.Equal("5432", values["PORT"]);
        Assert.Equal("pw", values["DB_FILE"]);
        Assert.Equal("dsofile://shop/db?name=db.txt", manifest.Single(e => e.Variable == "DB_FILE").Reference);
        Assert.Equal(1000u, Dso.Native.UnixFiles.Ownership(Path.Combine(directory, "db.txt")).Uid);
    }

    [Fact]
    public async Task Unresolvable_ListsEveryProblem_AndMaterializesNothing()
    {
        var error = await Assert.ThrowsAsync<UnresolvedReferencesException>(() => PrepareAsync(
            "services:\n  a:\n    image: pg\n    environment:\n      A: dso://shop/db\n      B: dso://shop/missing\n      C: dso://shop/json#nope\n      D: dso://aws:x\n"));

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("compose.yaml:6: dso://shop/missing: no secret named shop/missing", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("the secret's JSON has no field 'nope' (it has 2)", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("provider 'aws' is not configured", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_root, "proj")));
    }

    [Fact]
    public async Task ANamedUser_GetsAWarning_ThatSaysHowToFixIt()
    {
        var (prepared, _) = await PrepareAsync("services:\n  web:\n    image: named-user\n    environment:\n      A: dso://shop/db\n");

        var warning = Assert.Single(prepared.Warnings);
        Assert.Contains("runs as user 'nginx'", warning, StringComparison.Ordinal);
        Assert.Contains("x-dso: {uid: N}", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOverride_IsAcceptedByRealCompose_WithDollarSignsKept()
    {
        _dir.WriteFile("compose.yaml", "version: '3.8'\nservices:\n  a:\n    image: pg\n    command: ['sh', '-c', 'echo $$HOME']\n    environment:\n      X: dso://shop/db\n");
        var (prepared, _) = await PrepareAsync(null);

        var config = await TestCompose.RunAsync(["-f", _dir.Combine("compose.yaml"), "-f", prepared.OverrideFile, "config"],
            new ChildProcessOptions { WorkingDirectory = _dir.Path }, TestContext.Current.CancellationToken);

        Assert.True(config.Succeeded, config.StandardError);
        Assert.Contains("- /.dso/dso-init", config.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("echo $$HOME", config.StandardOutput, StringComparison.Ordinal);
        // v1 renders the bind mount in short syntax, v2 in long syntax.
        var text = config.StandardOutput;
        Assert.True(
            text.Contains(":/run/secrets/dso:ro", StringComparison.Ordinal)
            || System.Text.RegularExpressions.Regex.IsMatch(text, @"type: bind\s+source: \S+\s+target: /run/secrets/dso\s+read_only: true"),
            text);
        Assert.Contains("dso.managed: 'true'", config.StandardOutput.Replace("\"", "'", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _dir.Dispose();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string Normalize(string text) => text.Replace("\r", string.Empty, StringComparison.Ordinal);

    private async Task<(Prepared Prepared, string Override)> PrepareAsync(string? compose)
    {
        if (compose is not null)
        {
            _dir.WriteFile("compose.yaml", compose);
        }

        var project = ComposeLoader.Load(ComposeOptions.Default with { ProjectName = "proj" }, new Dictionary<string, string>(), _dir.Path);
        var registry = new ProviderRegistry([("local", () => _provider)], "local");
        var plan = await new StackPlanner(_images).PlanAsync(project, _ => Task.CompletedTask, s => Task.FromResult(s), TestContext.Current.CancellationToken);
        var materialized = await new LocalMaterializer(registry, SecretStore.Open(_root, "test"), FingerprintKey.LoadOrCreate(_dir.Combine(".dso"))).MaterializeAsync(plan, TestContext.Current.CancellationToken);
        var overrideText = OverrideBuilder.Build(plan, materialized, "/opt/dso-init");
        var overrideFile = _dir.WriteFile("override.yml", overrideText);
        return (new Prepared(overrideFile, [.. plan.Services.Select(s => s.Service.Name)], materialized.SecretCount, plan.Warnings), overrideText);
    }

    private sealed record Prepared(string OverrideFile, IReadOnlyList<string> ManagedServices, int SecretCount, IReadOnlyList<string> Warnings);
}
