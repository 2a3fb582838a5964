using System.Text.RegularExpressions;
using Dso.Testing;

namespace Dso.Swarm.Tests;

public sealed partial class StackDeployTests
{
    /// <summary>A service the probe can reach on the stack's network: two replicas behind DNS round robin, health-checked, rolled start-first.</summary>
    internal static string ServingStack(string extraArguments = "") => $$"""
        services:
          web:
            image: {{TestImages.App}}
            command: [{{extraArguments}}"serve", "8080", "TOKEN"]
            environment:
              TOKEN: dso://shop/token
            healthcheck:
              test: ["CMD", "/app", "check", "8080"]
              interval: 1s
              timeout: 1s
              retries: 2
              start_period: 1s
            deploy:
              replicas: 2
              endpoint_mode: dnsrr
              update_config:
                parallelism: 1
                delay: 1s
                order: start-first
                failure_action: rollback
                monitor: 3s
        networks:
          default:
            driver: overlay
            attachable: true
        """;

    [Fact]
    public async Task Deploy_EnvAndFileReferences_TasksSeeThem_NoValueInInspectOrSwarmState_StackRmRemovesThem()
    {
        var password = ComposeProjectUnderTest.Canary();
        var certificate = ComposeProjectUnderTest.Canary();
        await using var stack = new SwarmStack($$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sh", "-c", "echo DB=$$DB_PASSWORD; echo CERT=$$(cat $$CERT_FILE); echo AT=$$CERT_FILE; stat -c 'MODE=%a %u %g' $$CERT_FILE; echo DONE; sleep 3600"]
                environment:
                  DB_PASSWORD: dso://shop/db
                  CERT_FILE: dsofile://shop/cert?mode=0440&uid=100&gid=101&name=cert.pem
                  PLAIN: visible
            """);
        await stack.Project.WithSecretsAsync(("shop/db", password), ("shop/cert", certificate));

        var deploy = await stack.DeployOkAsync();

        var logs = await stack.LogsAsync("api", "DONE");
        Assert.Contains($"DB={password}\n", logs, StringComparison.Ordinal);
        Assert.Contains($"CERT={certificate}\n", logs, StringComparison.Ordinal);
        Assert.Contains("AT=/run/secrets/dso/cert.pem\n", logs, StringComparison.Ordinal);
        Assert.Contains("MODE=440 100 101\n", logs, StringComparison.Ordinal);
        Assert.Contains("converged", deploy.StandardError, StringComparison.Ordinal);

        var names = await stack.SecretNamesAsync();
        Assert.Equal(3, names.Length);
        Assert.All(names, name => Assert.Matches(SecretName(), name));
        Assert.All(names, name => Assert.StartsWith($"{stack.Name}_api_", name, StringComparison.Ordinal));
        Assert.Equal(names, await stack.MountedSecretsAsync("api"));

        var service = await EngineFixture.DockerOkAsync("service", "inspect", stack.Service("api"));
        Assert.Contains("DB_PASSWORD=dso://shop/db", service, StringComparison.Ordinal);
        var secrets = await EngineFixture.DockerOkAsync(["secret", "inspect", .. names]);
        var tasks = await EngineFixture.DockerOkAsync("ps", "-q", "--filter", $"label=com.docker.stack.namespace={stack.Name}");
        var container = await EngineFixture.DockerOkAsync(["inspect", .. tasks.Split('\n', StringSplitOptions.RemoveEmptyEntries)]);
        foreach (var canary in new[] { password, certificate })
        {
            foreach (var (what, text) in new[] { ("docker service inspect", service), ("docker secret inspect", secrets), ("docker inspect", container), ("deploy output", deploy.StandardOutput + deploy.StandardError) })
            {
                Assert.False(CanaryScanner.Holds(System.Text.Encoding.UTF8.GetBytes(text), canary), $"{what} holds a secret value");
            }

            // Swarm encrypts its Raft log; the plaintext must not be in it, nor anywhere DSO wrote.
            Assert.Empty(CanaryScanner.FindIn(["/var/lib/docker/swarm", stack.Project.Directory, Path.GetTempPath()], canary));
        }

        Assert.True((await EngineFixture.DockerAsync("stack", "rm", stack.Name)).Succeeded);
        Assert.Empty(await stack.SecretNamesAsync());
    }

    [Fact]
    public async Task ChangedSecret_RedeployRollsStartFirst_ZeroFailedRequests_OldVersionPruned()
    {
        await using var stack = new SwarmStack(ServingStack());
        await stack.Project.WithSecretsAsync(("shop/token", "token-one"));
        await stack.DeployOkAsync();
        var before = await stack.SecretNamesAsync();

        // A new connection every 20 ms for 24 s, each to one task address in turn (no fallback), through the rotation.
        var probe = stack.ProbeAsync("web", 8080, "TOKEN", 1200, 20);
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        await stack.SetSecretAsync("shop/token", "token-two");
        var deploy = await stack.DeployOkAsync();
        var result = await probe;

        Assert.True(result.Succeeded, result.StandardError);
        Assert.Contains("probe requests=1200 failed=0\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("seen=token-one\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("seen=token-two\n", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("removed 1 secret version", deploy.StandardError, StringComparison.Ordinal);

        var after = await stack.SecretNamesAsync();
        Assert.Equal(after, await stack.MountedSecretsAsync("web"));
        var replaced = Assert.Single(before.Except(after));
        Assert.Contains("dso-env-0", replaced, StringComparison.Ordinal);
        Assert.Single(after.Except(before));
        Assert.Contains("start-first", await EngineFixture.DockerOkAsync("service", "inspect", stack.Service("web"), "--format", "{{.Spec.UpdateConfig.Order}}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnchangedSecrets_Redeploy_KeepsVersionsAndTasks()
    {
        await using var stack = new SwarmStack(ServingStack());
        await stack.Project.WithSecretsAsync(("shop/token", "token-same"));
        await stack.DeployOkAsync();
        var names = await stack.SecretNamesAsync();
        var tasks = await EngineFixture.DockerOkAsync("service", "ps", "-q", "--filter", "desired-state=running", stack.Service("web"));

        var again = await stack.DeployOkAsync();

        Assert.Contains("(0 new)", again.StandardError, StringComparison.Ordinal);
        Assert.Equal(names, await stack.SecretNamesAsync());
        Assert.Equal(tasks, await EngineFixture.DockerOkAsync("service", "ps", "-q", "--filter", "desired-state=running", stack.Service("web")));
    }

    [Fact]
    public async Task UnhealthyNewVersion_SwarmRollsBack_DeployFails_OldVersionKeptAndServing()
    {
        await using var stack = new SwarmStack(ServingStack("\"--refuse\", \"bad-\", "));
        await stack.Project.WithSecretsAsync(("shop/token", "good-one"));
        await stack.DeployOkAsync();
        var before = await stack.SecretNamesAsync();

        await stack.SetSecretAsync("shop/token", "bad-two");
        var deploy = await stack.DeployAsync();

        Assert.Equal(1, deploy.ExitCode);
        Assert.Contains("rolled it back", deploy.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, await stack.SecretNamesAsync());
        Assert.Equal(before, await stack.MountedSecretsAsync("web"));
        Assert.Equal("rollback_completed", await EngineFixture.DockerOkAsync("service", "inspect", stack.Service("web"), "--format", "{{.UpdateStatus.State}}"));
        var probe = await stack.ProbeAsync("web", 8080, "TOKEN", 20, 20);
        Assert.True(probe.StandardOutput.Contains("probe requests=20 failed=0\n", StringComparison.Ordinal), $"probe: exit {probe.ExitCode}\n{probe.StandardOutput}\n{probe.StandardError}");
        Assert.Contains("seen=good-one\n", probe.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("bad-two", probe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnresolvableReference_FailsBeforeSwarmIsTouched()
    {
        await using var stack = new SwarmStack(ServingStack());
        await stack.Project.WithSecretsAsync(("shop/other", "x"));

        var deploy = await stack.DeployAsync();

        Assert.Equal(1, deploy.ExitCode);
        Assert.Contains("shop/token", deploy.StandardError, StringComparison.Ordinal);
        Assert.Empty(await stack.SecretNamesAsync());
        Assert.False((await EngineFixture.DockerAsync("service", "inspect", stack.Service("web"))).Succeeded);
    }

    [Fact]
    public async Task SeReference_DeploysAsTheReferenceItsRealmMaps_TaskSeesTheValue_ServiceHoldsNoSeText()
    {
        var token = ComposeProjectUnderTest.Canary();
        await using var stack = new SwarmStack($$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sh", "-c", "echo TOKEN=$$API_TOKEN; echo DONE; sleep 3600"]
                environment:
                  API_TOKEN: se://docker/api/token
            """);
        stack.Project.WriteFile("dso.yaml", "realms:\n  \"docker/**\": {path: shop}\n");
        await stack.Project.WithSecretsAsync(("shop/api/token", token));

        await stack.DeployOkAsync();

        Assert.Contains($"TOKEN={token}\n", await stack.LogsAsync("api", "DONE"), StringComparison.Ordinal);
        var service = await EngineFixture.DockerOkAsync("service", "inspect", stack.Service("api"));
        Assert.Contains("API_TOKEN=dso://shop/api/token", service, StringComparison.Ordinal);
        Assert.DoesNotContain("se://", service, StringComparison.Ordinal);
        Assert.False(CanaryScanner.Holds(System.Text.Encoding.UTF8.GetBytes(service), token));
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,50}-[0-9a-f]{12}$")]
    private static partial Regex SecretName();
}
