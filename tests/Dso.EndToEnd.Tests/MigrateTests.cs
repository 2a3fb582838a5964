using Dso.Testing;

namespace Dso.EndToEnd.Tests;

public sealed class MigrateTests(EngineFixture engine)
{
    /// <summary>
    /// The path a user takes from plain text: a compose file, an env_file and `.env`, each holding a
    /// secret; `migrate` then `up` of the copy → the container gets the same values, and neither the
    /// copies nor `docker inspect` hold them.
    /// </summary>
    [Fact]
    public async Task MigratedProject_ComesUpWithTheSameValues_FromTheVault()
    {
        await engine.RequireAsync();
        var password = ComposeProjectUnderTest.Canary();
        var token = ComposeProjectUnderTest.Canary();
        var pgPass = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($$"""
            x-env: &env
              DB_PASSWORD: {{password}}
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                env_file: [app.env]
                environment:
                  <<: *env
                  DATABASE_URL: postgres://shop:${PG_PASS}@db/shop
                  LOG_LEVEL: info
            """);
        stack.WriteFile("app.env", $"API_TOKEN={token}\nCURRENCY=EUR\n");
        stack.WriteFile(".env", $"PG_PASS={pgPass}\n");
        await stack.WithSecretsAsync();

        var migrate = await stack.DsoOkAsync("migrate", "--project", "shop");
        await stack.DsoOkAsync("up", "-f", "compose.dso.yaml", "-d");

        var container = await stack.ContainerAsync("api");
        var environment = await ComposeProjectUnderTest.Pid1EnvironmentAsync(container);
        Assert.Equal(password, environment["DB_PASSWORD"]);
        Assert.Equal(token, environment["API_TOKEN"]);
        Assert.Equal($"postgres://shop:{pgPass}@db/shop", environment["DATABASE_URL"]);
        Assert.Equal("EUR", environment["CURRENCY"]);
        Assert.Equal("info", environment["LOG_LEVEL"]);
        var inspect = await EngineFixture.DockerOkAsync("inspect", container);
        var copies = File.ReadAllText(Path.Combine(stack.Directory, "compose.dso.yaml")) + File.ReadAllText(Path.Combine(stack.Directory, "app.env.dso"));
        foreach (var value in new[] { password, token, pgPass })
        {
            Assert.DoesNotContain(value, inspect, StringComparison.Ordinal);
            Assert.DoesNotContain(value, copies, StringComparison.Ordinal);
            Assert.DoesNotContain(value, migrate.StandardOutput + migrate.StandardError, StringComparison.Ordinal);
        }

        Assert.Contains("API_TOKEN=dso://shop/API_TOKEN", inspect, StringComparison.Ordinal);
    }
}
