using Dso.Testing;

namespace Dso.EndToEnd.Tests;

public sealed class UpTests(EngineFixture engine)
{
    [Fact]
    public async Task Up_EnvReference_SetsValueBeforeEntrypoint()
    {
        await engine.RequireAsync();
        var canary = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD: dso://myapp/db_password
                  PLAIN: visible
            """);
        await stack.WithSecretsAsync(("myapp/db_password", canary));

        var up = await stack.DsoOkAsync("up", "-d");

        var container = await stack.ContainerAsync("api");
        var environment = await ComposeProjectUnderTest.Pid1EnvironmentAsync(container);
        Assert.Equal(canary, environment["DB_PASSWORD"]);
        Assert.Equal("visible", environment["PLAIN"]);
        Assert.Equal("sleep3600", (await EngineFixture.DockerOkAsync("exec", container, "cat", "/proc/1/cmdline")).Replace("\0", string.Empty, StringComparison.Ordinal));
        var inspect = await EngineFixture.DockerOkAsync("inspect", container);
        Assert.DoesNotContain(canary, inspect, StringComparison.Ordinal);
        Assert.Contains("DB_PASSWORD=dso://myapp/db_password", inspect, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, up.StandardOutput + up.StandardError, StringComparison.Ordinal);
        Figures.Record("G2", "occurrences of the value in `docker inspect` of the container (the reference is there)", Occurrences(inspect, canary).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Figures.Record("G3", "PID 1 (the image's entrypoint, `sleep`) started with the value in its environment", environment["DB_PASSWORD"] == canary ? "yes" : "no");
    }

    private static int Occurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task Up_ShellLessStaticImage_GetsEnvAndFileSecretsBeforeItsEntrypoint()
    {
        await engine.RequireAsync();
        var password = ComposeProjectUnderTest.Canary();
        var certificate = "-----BEGIN CERT-----\n" + ComposeProjectUnderTest.Canary() + "\n-----END CERT-----";
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              app:
                image: {TestImages.App}
                command: ["--exit", "report", "DB_PASSWORD", "CERT_FILE", "PLAIN"]
                environment:
                  DB_PASSWORD: dso://shop/db
                  CERT_FILE: dsofile://shop/cert?name=cert.pem
                  PLAIN: plain-value
            """);
        await stack.WithSecretsAsync(("shop/db", password), ("shop/cert", certificate));

        await stack.DsoOkAsync("up", "-d");

        var container = Assert.Single(await stack.ContainersAsync("app", all: true));
        var logs = await WaitForLogsAsync(container, "PLAIN=");
        Assert.Contains($"DB_PASSWORD={password}\n", logs, StringComparison.Ordinal);
        Assert.Contains("CERT_FILE=/run/secrets/dso/cert.pem\n", logs, StringComparison.Ordinal);
        Assert.Contains($"FILE:CERT_FILE={certificate}\n", logs, StringComparison.Ordinal);
        Assert.Contains("PLAIN=plain-value\n", logs, StringComparison.Ordinal);
        Assert.Equal("0", await EngineFixture.DockerOkAsync("inspect", "--format", "{{.State.ExitCode}}", container));
        var inspect = await EngineFixture.DockerOkAsync("inspect", container);
        Assert.DoesNotContain(password, inspect, StringComparison.Ordinal);
        Assert.Contains("CERT_FILE=dsofile://shop/cert?name=cert.pem", inspect, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileReference_HasItsContentModeAndOwner_IsReadOnly_AndOtherServicesCannotSeeIt()
    {
        await engine.RequireAsync();
        var key = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  TLS_KEY_FILE: dsofile://myapp/tls_key?mode=0440&uid=1000&gid=2000
              worker:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  OTHER: dso://myapp/other
            """);
        await stack.WithSecretsAsync(("myapp/tls_key", key), ("myapp/other", "x"));

        await stack.DsoOkAsync("up", "-d");

        var api = await stack.ContainerAsync("api");
        var worker = await stack.ContainerAsync("worker");
        Assert.Equal("/run/secrets/dso/tls_key", (await ComposeProjectUnderTest.Pid1EnvironmentAsync(api))["TLS_KEY_FILE"]);
        Assert.Equal(key, await EngineFixture.DockerOkAsync("exec", api, "cat", "/run/secrets/dso/tls_key"));
        var stat = await EngineFixture.DockerOkAsync("exec", api, "stat", "-c", "%a %u %g", "/run/secrets/dso/tls_key");
        Assert.Equal("440 1000 2000", stat);
        Figures.Record("G4", "mode, uid and gid of a file the reference asks 0440 1000:2000 for, in the container", stat);
        var write = await EngineFixture.DockerAsync("exec", api, "sh", "-c", "echo tampered > /run/secrets/dso/tls_key");
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Read-only file system", write.StandardError, StringComparison.Ordinal);
        var create = await EngineFixture.DockerAsync("exec", api, "touch", "/run/secrets/dso/new");
        Assert.NotEqual(0, create.ExitCode);
        var seenByWorker = await EngineFixture.DockerAsync("exec", worker, "cat", "/run/secrets/dso/tls_key");
        Assert.NotEqual(0, seenByWorker.ExitCode);
        Assert.DoesNotContain(key, seenByWorker.StandardOutput, StringComparison.Ordinal);
        var workerFiles = await EngineFixture.DockerOkAsync("exec", worker, "find", "/run/secrets/dso", "-type", "f");
        Assert.DoesNotContain("tls_key", workerFiles, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultOwner_IsTheServicesNumericUser_SoANonRootAppCanReadItsSecrets()
    {
        await engine.RequireAsync();
        var value = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                user: "1234:1234"
                command: ["sleep", "3600"]
                environment:
                  TOKEN: dso://app/token
                  TOKEN_FILE: dsofile://app/token
            """);
        await stack.WithSecretsAsync(("app/token", value));

        await stack.DsoOkAsync("up", "-d");

        var api = await stack.ContainerAsync("api");
        Assert.Equal(value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(api))["TOKEN"]);
        Assert.Equal("1234", await EngineFixture.DockerOkAsync("exec", api, "id", "-u"));
        Assert.Equal(value, await EngineFixture.DockerOkAsync("exec", api, "cat", "/run/secrets/dso/token"));
        Assert.Equal("400 1234 1234", await EngineFixture.DockerOkAsync("exec", api, "stat", "-c", "%a %u %g", "/run/secrets/dso/token"));
    }

    [Fact]
    public async Task ScaledReplicas_BothGetTheirSecrets_AndOtherComposeArgumentsPassThrough()
    {
        await engine.RequireAsync();
        var value = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD: dso://myapp/db
            """);
        await stack.WithSecretsAsync(("myapp/db", value));

        await stack.DsoOkAsync("up", "-d", "--scale", "api=2", "--no-color");

        var replicas = await stack.ContainersAsync("api");
        Assert.Equal(2, replicas.Length);
        foreach (var replica in replicas)
        {
            Assert.Equal(value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(replica))["DB_PASSWORD"]);
        }
    }

    [Fact]
    public async Task RestartedContainers_ComeBackWithTheirSecrets()
    {
        await engine.RequireAsync();
        var value = ComposeProjectUnderTest.Canary();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD: dso://myapp/db
              flaky:
                image: {TestImages.Busybox}
                restart: always
                command: ["sh", "-c", "if [ \"$$DB_PASSWORD\" = '{value}' ]; then echo has-secret; fi; sleep 1; exit 3"]
                environment:
                  DB_PASSWORD: dso://myapp/db
            """);
        await stack.WithSecretsAsync(("myapp/db", value));
        await stack.DsoOkAsync("up", "-d");
        var api = await stack.ContainerAsync("api");

        await EngineFixture.DockerOkAsync("restart", "-t", "1", api);

        Assert.Equal(value, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(api))["DB_PASSWORD"]);
        var flaky = Assert.Single(await stack.ContainersAsync("flaky", all: true));
        var logs = await WaitForLogsAsync(flaky, "has-secret\nhas-secret\n", TimeSpan.FromSeconds(60));
        Assert.True(logs.Split('\n').Count(l => l == "has-secret") >= 2, logs);
        var restarts = int.Parse(await EngineFixture.DockerOkAsync("inspect", "--format", "{{.RestartCount}}", flaky), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(restarts >= 1, $"restart count {restarts}");
    }

    [Fact]
    public async Task Down_RemovesTheStackAndWipesItsSecrets()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD: dso://myapp/db
            """);
        await stack.WithSecretsAsync(("myapp/db", ComposeProjectUnderTest.Canary()));
        await stack.DsoOkAsync("up", "-d");
        Assert.True(Directory.Exists(Path.Combine(stack.SecretsDirectory, stack.Name, "api")));

        var down = await stack.DsoOkAsync("down");

        Assert.Empty(await stack.AllContainersAsync());
        Assert.False(Directory.Exists(Path.Combine(stack.SecretsDirectory, stack.Name)));
        Assert.Contains("removed the secrets of project", down.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComposePassThrough_RunsAnyCompose_Subcommand()
    {
        await engine.RequireAsync();
        await using var stack = new ComposeProjectUnderTest($"""
            services:
              api:
                image: {TestImages.Busybox}
                command: ["sleep", "3600"]
                environment:
                  DB_PASSWORD: dso://myapp/db
            """);
        await stack.WithSecretsAsync(("myapp/db", "v"));
        await stack.DsoOkAsync("compose", "up", "-d");

        var ps = await stack.DsoOkAsync("compose", "ps");

        Assert.Contains("api", ps.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("v", (await ComposeProjectUnderTest.Pid1EnvironmentAsync(await stack.ContainerAsync("api")))["DB_PASSWORD"]);
    }

    internal static async Task<string> WaitForLogsAsync(string container, string expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        string logs;
        do
        {
            var result = await EngineFixture.DockerAsync("logs", container);
            logs = result.StandardOutput + result.StandardError;
            if (logs.Contains(expected, StringComparison.Ordinal))
            {
                return logs;
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"container {container} did not log '{expected}' in time; logs:\n{logs}");
        return logs;
    }
}
