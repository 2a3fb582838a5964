using System.Diagnostics;
using System.Text;
using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>Strategies that leave the container running: `live` rewrites its files, `signal` also signals it.</summary>
public sealed class InPlaceRotationTests(EngineFixture engine)
{
    [Fact]
    public async Task Live_ASecretSetInTheLocalVault_ReachesTheRunningContainerWithinTwoSeconds_WithoutARestart()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync($$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: live
                environment:
                  TOKEN_FILE: dsofile://local:app/token
            """, [], agentEnvironment: null, secretsFirst: async stack =>
            {
                stack.Project.Environment["DSO_HOME"] = stack.Agent.Environment["DSO_HOME"];
                await stack.Project.WithSecretsAsync(("app/token", "first-token"));
            });
        var container = await stack.Project.ContainerAsync("api");
        var before = await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}");
        Assert.Equal("first-token", await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token"));

        var set = await stack.Project.DsoWithInputAsync(Encoding.UTF8.GetBytes("second-token"), "secret", "set", "app/token");
        Assert.True(set.Succeeded, set.StandardError);
        var clock = Stopwatch.StartNew();
        var seen = string.Empty;
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && seen != "second-token")
        {
            seen = await EngineFixture.DockerOkAsync("exec", container, "cat", "/run/secrets/dso/token");
        }

        Assert.Equal("second-token", seen);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the container saw the new value after {clock.Elapsed.TotalSeconds:0.00}s (limit 2s)");
        Assert.Equal(before, await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}} {{.RestartCount}}"));
        TestContext.Current.TestOutputHelper?.WriteLine($"live: new value visible in the container {clock.Elapsed.TotalMilliseconds:0} ms after 'secret set' returned");
    }

    [Fact]
    public async Task Signal_TheAppGetsSighup_AndReadsTheNewValue_InTheSameProcess()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync($$"""
            services:
              api:
                image: {{TestImages.App}}
                command: ["serve", "8080", "CONFIG_FILE"]
                labels:
                  dso.strategy: signal
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  CONFIG_FILE: dsofile://app/config
            """, new() { ["app/config"] = "config-one" });
        var container = await stack.Project.ContainerAsync("api");
        var before = await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}}");
        Assert.Contains("SIGNALS:HUP=0", await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-one"), StringComparison.Ordinal);

        stack.Set("app/config", "config-two");

        var answer = await RotationStack.WaitForAnswerAsync(stack.Port, "SIGNALS:HUP=1");
        Assert.Contains("FILE:CONFIG_FILE=config-two", answer, StringComparison.Ordinal);
        Assert.Equal(before, await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}}"));
        Assert.Equal(1, await stack.MetricAsync("dso_rotations_total{strategy=\"signal\",result=\"rotated\"}"));
    }

    [Fact]
    public async Task Live_WithAnEnvironmentReference_WarnsAtUp_ThatItChangesOnlyOnRecreate()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync($$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: live
                environment:
                  DB_PASSWORD: dso://app/db
            """, new() { ["app/db"] = "one" });

        var up = await stack.Project.DsoOkAsync("up", "-d");

        Assert.Contains("strategy live cannot change environment values in a running process (DB_PASSWORD)", up.StandardError, StringComparison.Ordinal);
    }
}
