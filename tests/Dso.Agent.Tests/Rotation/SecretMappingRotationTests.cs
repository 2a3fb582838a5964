using Dso.Testing;

namespace Dso.Agent.Tests.Rotation;

/// <summary>
/// The seed's agent-mode model end to end: a compose file with no reference, dso.yaml `secrets:`
/// mapping variables onto a labelled service, and each secret's own rotation strategy applied to a
/// change of that secret only.
/// </summary>
public sealed class SecretMappingRotationTests(EngineFixture engine)
{
    [Fact]
    public async Task MappedSecrets_ReachTheService_AndEachChangeRotatesByItsSecretsOwnStrategy()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(
            $$"""
            services:
              api:
                image: {{TestImages.App}}
                command: ["serve", "8080", "DB_PASSWORD", "CONFIG_FILE"]
                labels:
                  dso.reloader: "true"
                  dso.secrets: "database,app_config"
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  DB_PASSWORD: ""
            """,
            new() { ["prod/db"] = "db-one", ["prod/config"] = "config-one" },
            agentKeys: RotationStack.TestTimings.Replace("  rotation:\n", "  rotation:\n    strategy: restart\n", StringComparison.Ordinal),
            secretsFirst: stack =>
            {
                stack.Project.WriteFile("dso.yaml", """
                    secrets:
                      - name: database
                        mappings:
                          DB_PASSWORD: prod/db
                      - name: app_config
                        rotation:
                          strategy: signal
                        inject:
                          type: file
                        mappings:
                          CONFIG_FILE: prod/config
                    """);
                return Task.CompletedTask;
            });
        var container = await stack.Project.ContainerAsync("api");
        var first = await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=db-one");
        Assert.Contains("FILE:CONFIG_FILE=config-one", first, StringComparison.Ordinal);
        var environment = await RotationStack.InspectAsync(container, "{{json .Config.Env}}");
        Assert.Contains("DB_PASSWORD=dso://prod/db", environment, StringComparison.Ordinal);
        Assert.DoesNotContain("db-one", environment, StringComparison.Ordinal);
        var before = await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}}");

        // app_config's own strategy: signal — the same process re-reads its file.
        stack.Set("prod/config", "config-two");
        var signalled = await RotationStack.WaitForAnswerAsync(stack.Port, "SIGNALS:HUP=1");
        Assert.Contains("FILE:CONFIG_FILE=config-two", signalled, StringComparison.Ordinal);
        Assert.Equal(before, await RotationStack.InspectAsync(container, "{{.Id}} {{.State.StartedAt}}"));
        await stack.WaitForRotationsAsync("signal", "rotated", 1);

        // database has none of its own: the agent's default, restart — a new container with the new value.
        stack.Set("prod/db", "db-two");
        var restarted = await RotationStack.WaitForAnswerAsync(stack.Port, "DB_PASSWORD=db-two");
        Assert.Contains("FILE:CONFIG_FILE=config-two", restarted, StringComparison.Ordinal);
        await stack.WaitForRotationsAsync("restart", "rotated", 1);
        Assert.NotEqual(before, await RotationStack.InspectAsync(await stack.Project.ContainerAsync("api"), "{{.Id}} {{.State.StartedAt}}"));
        Assert.Equal(1, await stack.MetricAsync("dso_rotations_total{strategy=\"signal\",result=\"rotated\"}"));
    }
}
