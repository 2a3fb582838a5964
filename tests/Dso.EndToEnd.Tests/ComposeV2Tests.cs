using Dso.Testing;

namespace Dso.EndToEnd.Tests;

/// <summary>
/// What a Compose v2 user writes, with references, through `docker dso up`: `include:`, `name:`,
/// `env_file:` long syntax, `configs:` with `content:`, `depends_on` conditions with `restart` and
/// `required`, `develop.watch`, profiles, `--scale`, and compose's own global flags on either side
/// of the subcommand. Compose v1 reads none of these keys, so the v1 lane leaves these tests out
/// (scripts/test.sh filters the trait).
/// </summary>
[Trait("compose", "v2")]
public sealed class ComposeV2Tests(EngineFixture engine)
{
    [Fact]
    public async Task AComposeV2Project_WithIncludeAndTheNewerKeys_GetsItsSecretsInEveryService()
    {
        await engine.RequireAsync();
        var db = ComposeProjectUnderTest.Canary();
        var token = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            name: ignored-because-the-test-sets-one
            include:
              - path: backend/compose.yaml
            services:
              web:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                depends_on:
                  db:
                    condition: service_started
                    restart: true
                    required: true
                env_file:
                  - path: web.env
                    required: true
                  - path: missing.env
                    required: false
                configs:
                  - source: greeting
                    target: /etc/greeting
                develop:
                  watch:
                    - action: sync
                      path: ./web
                      target: /web
              tools:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                profiles: [tools]
                environment:
                  TOOL_TOKEN: dso://app/token
            configs:
              greeting:
                content: hello from compose v2
            """);
        stack.WriteFile("web.env", "API_TOKEN=dso://app/token\n");
        stack.WriteFile("backend/compose.yaml", $"""
            services:
              db:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD_FILE: dsofile://app/db
                  DB_USER: ${"{"}DB_USER{"}"}
            """);
        stack.WriteFile("backend/.env", "DB_USER=backend-user\n");
        Directory.CreateDirectory(Path.Combine(stack.Directory, "web"));
        await stack.WithSecretsAsync(("app/db", db), ("app/token", token));

        // Compose's project flags after `up`, among up's own.
        await stack.DsoOkAsync("up", "--profile", "tools", "-d", "--scale", "web=2");

        var webs = await stack.ContainersAsync("web");
        Assert.Equal(2, webs.Length);
        foreach (var web in webs)
        {
            Assert.Equal(token, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(web))["API_TOKEN"]);
            Assert.Equal("hello from compose v2", await EngineFixture.DockerOkAsync("exec", web, "cat", "/etc/greeting"));
        }

        var backend = await stack.ContainerAsync("db");
        var backendEnvironment = await ComposeProjectUnderTest.Pid1EnvironmentAsync(backend);
        Assert.Equal("backend-user", backendEnvironment["DB_USER"]);
        Assert.Equal(db, await EngineFixture.DockerOkAsync("exec", backend, "cat", backendEnvironment["DB_PASSWORD_FILE"]));
        Assert.Equal(token, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(await stack.ContainerAsync("tools")))["TOOL_TOKEN"]);
        foreach (var container in await stack.AllContainersAsync())
        {
            var inspect = await EngineFixture.DockerOkAsync("inspect", container);
            Assert.DoesNotContain(db, inspect, StringComparison.Ordinal);
            Assert.DoesNotContain(token, inspect, StringComparison.Ordinal);
        }

        // And before compose's subcommand, as `docker compose --profile tools ps` takes them.
        var ps = await stack.DsoOkAsync("compose", "--profile", "tools", "ps", "--services");
        Assert.Equal(["db", "tools", "web"], ps.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        var validate = await stack.DsoOkAsync("validate", "--profile", "tools");
        Assert.Contains("3 references in 3 services", validate.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComposesOwnFileSecrets_KeepWorkingBesideDsos()
    {
        await engine.RequireAsync();
        var value = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                secrets: [plain]
                environment:
                  DB_PASSWORD: dso://app/db
            secrets:
              plain:
                file: ./plain.txt
            """);
        stack.WriteFile("plain.txt", "not-a-dso-secret");
        await stack.WithSecretsAsync(("app/db", value));

        await stack.DsoOkAsync("up", "-d");

        var api = await stack.ContainerAsync("api");
        Assert.Equal(value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(api))["DB_PASSWORD"]);
        Assert.Equal("not-a-dso-secret", await EngineFixture.DockerOkAsync("exec", api, "cat", "/run/secrets/plain"));
    }
}
