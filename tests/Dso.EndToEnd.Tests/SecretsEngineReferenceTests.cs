using System.Text.Json;
using Dso.Testing;

namespace Dso.EndToEnd.Tests;

/// <summary>
/// Docker's own `se://ID` references (the Docker Secrets Engine's, as Docker Desktop resolves them)
/// in a compose file run on a server under `docker dso`: dso.yaml's realms say which provider and
/// path each id is; the values reach PID 1 and no disk, and inspect shows references only.
/// </summary>
public sealed class SecretsEngineReferenceTests(EngineFixture engine)
{
    [Fact]
    public async Task SeReferences_InEnvironmentAndEnvFile_RunUnderUp_ResolvedThroughRealms_OnNoDisk()
    {
        await engine.RequireAsync();
        var password = ComposeProjectUnderTest.Canary();
        var session = ComposeProjectUnderTest.Canary();
        var token = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                env_file: [app.env]
                environment:
                  DB_PASSWORD: se://docker/db/password
                  API_TOKEN: se://api-token
                  GREETING: hello
            """);
        stack.WriteFile("app.env", "SESSION_KEY=se://docker/db/session\n");
        stack.WriteFile("dso.yaml", """
            realms:
              "docker/db/**": {provider: local, path: prod/db}
            """);
        var home = Directory.CreateDirectory(Path.Combine(stack.Directory, "home")).FullName;
        stack.Environment["HOME"] = home;
        await stack.WithSecretsAsync(("prod/db/password", password), ("prod/db/session", session), ("api-token", token));

        // validate says which provider and path each id resolves through.
        var validate = await stack.DsoOkAsync("validate");
        Assert.Matches(@"ok\s+api\s+DB_PASSWORD\s+se://docker/db/password -> local:prod/db/password", validate.StandardOutput);
        Assert.Matches(@"ok\s+api\s+SESSION_KEY\s+se://docker/db/session -> local:prod/db/session\s+app\.env:1", validate.StandardOutput);
        Assert.Matches(@"ok\s+api\s+API_TOKEN\s+se://api-token -> local:api-token", validate.StandardOutput);
        using var json = JsonDocument.Parse((await stack.DsoOkAsync("validate", "--json")).StandardOutput);
        var reported = json.RootElement.GetProperty("references").EnumerateArray().Single(r => r.GetProperty("variable").GetString() == "DB_PASSWORD");
        Assert.Equal("docker/db/password", reported.GetProperty("secretsEngineId").GetString());
        Assert.Equal("local", reported.GetProperty("provider").GetString());
        Assert.Equal("dso://local:prod/db/password", reported.GetProperty("reference").GetString());

        var diskTrees = await stack.DiskTreesAsync(home);
        await stack.DsoOkAsync("up", "-d");
        var container = await stack.ContainerAsync("api");
        var pid1 = await ComposeProjectUnderTest.Pid1EnvironmentAsync(container);
        Assert.Equal(password, pid1["DB_PASSWORD"]);
        Assert.Equal(session, pid1["SESSION_KEY"]);
        Assert.Equal(token, pid1["API_TOKEN"]);
        Assert.Equal("hello", pid1["GREETING"]);

        // inspect holds the references the realms made, never a value, and no se:// text that an
        // engine without a Secrets Engine would hand the application as is.
        var inspect = await EngineFixture.DockerOkAsync("inspect", container, "--format", "{{json .Config.Env}}");
        Assert.Contains("DB_PASSWORD=dso://local:prod/db/password", inspect, StringComparison.Ordinal);
        Assert.Contains("SESSION_KEY=dso://local:prod/db/session", inspect, StringComparison.Ordinal);
        Assert.DoesNotContain("se://", inspect, StringComparison.Ordinal);
        var fullInspect = await EngineFixture.DockerOkAsync("inspect", container);
        var hits = 0;
        foreach (var canary in new[] { password, session, token })
        {
            Assert.DoesNotContain(canary, fullInspect, StringComparison.Ordinal);
            Assert.NotEmpty(CanaryScanner.FindIn([stack.SecretsDirectory], canary));
            hits += CanaryScanner.FindIn(diskTrees, canary).Count;
        }

        Assert.Equal(0, hits);
        await stack.DsoOkAsync("down");
        Figures.Record("G1", "se:// references under docker dso up (environment and env_file): values in PID 1, canaries in disk trees, se:// left in inspect", $"3 of 3, {hits}, 0");
    }

    [Fact]
    public async Task SeReference_ThatMapsToNoUsablePath_StopsUp_WithOneLine_AndStartsNothing()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  TOKEN: se://team:ops/token
                  BAD: se://docker/db*
            """);
        await stack.WithSecretsAsync();

        var up = await stack.DsoAsync("up", "-d");

        Assert.Equal(1, up.ExitCode);
        var line = Assert.Single(up.StandardError.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"^dso: compose\.yaml:\d+: service api, (TOKEN|BAD): ", line);
        Assert.Empty(await stack.AllContainersAsync());
    }
}
