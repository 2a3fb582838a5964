using System.Text.Json;
using Dso.Agent.Tests.Rotation;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>
/// The agent re-reads dso.yaml while it runs: an edit is applied (or refused whole, the last good
/// configuration kept) without a restart, by itself or on SIGHUP (`systemctl reload`).
/// </summary>
public sealed class ConfigReloadTests(EngineFixture engine)
{
    private static readonly string Compose = $$"""
        services:
          api:
            image: {{TestImages.App}}
            command: ["serve", "8080", "CONFIG_FILE"]
            labels:
              dso.strategy: live
            ports: ["127.0.0.1:{PORT}:8080"]
            environment:
              CONFIG_FILE: dsofile://files:app/config
        """;

    [Fact]
    public async Task EditingDsoYaml_PointsAProviderElsewhere_AndItsConsumersGetTheNewValue_WithoutARestart()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(Compose, new() { ["app/config"] = "config-one" });
        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-one");
        var pid = stack.Agent.Pid;

        var other = stack.Directory.Combine("other-secrets.json");
        await File.WriteAllTextAsync(other, """{"app/config":"config-from-the-other-file"}""", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(other, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var text = await File.ReadAllTextAsync(stack.Agent.ConfigPath, TestContext.Current.CancellationToken);
        Assert.Contains(stack.Files.Path, text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(stack.Agent.ConfigPath, text.Replace(stack.Files.Path, other, StringComparison.Ordinal), TestContext.Current.CancellationToken);

        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-from-the-other-file");
        Assert.False(stack.Agent.HasExited);
        Assert.Equal(pid, stack.Agent.Pid);
        Assert.Equal(1, await stack.MetricAsync("dso_config_reloads_total{trigger=\"file\",result=\"applied\"}"));
        Assert.Equal(1, await stack.MetricAsync("dso_config_last_reload_successful"));
        Assert.Contains("reloaded (file); provider(s) changed: files", stack.Agent.Output, StringComparison.Ordinal);
        var audit = await File.ReadAllTextAsync(stack.Agent.AuditLog, TestContext.Current.CancellationToken);
        Assert.Contains("\"action\":\"config.reload\"", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadEdit_IsRefusedWhole_TheLastGoodConfigurationKeepsWorking_AndSighupAppliesTheFix()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(Compose, new() { ["app/config"] = "config-one" });
        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-one");
        var good = await File.ReadAllTextAsync(stack.Agent.ConfigPath, TestContext.Current.CancellationToken);

        // Not YAML dso.yaml accepts: refused, and the running configuration stays.
        await File.WriteAllTextAsync(stack.Agent.ConfigPath, good + "agent_typo: true\n", TestContext.Current.CancellationToken);
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_config_last_reload_successful") == 0, 20);
        var status = JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!;
        Assert.Contains("agent_typo", status.Agent.ConfigError, StringComparison.Ordinal);
        Assert.Contains("last reload refused", (await stack.Project.DsoOkAsync("status")).StandardOutput, StringComparison.Ordinal);
        Assert.Contains("the last good configuration stays in use", stack.Agent.Output, StringComparison.Ordinal);
        stack.Set("app/config", "config-two");
        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-two");

        // Valid, but a managed project still uses the provider it drops: refused, naming the project.
        await File.WriteAllTextAsync(stack.Agent.ConfigPath, good.Replace("providers:\n  files:", "providers:\n  renamed:", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_config_reloads_total{trigger=\"file\",result=\"failed\"}") >= 2, 20);
        status = JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!;
        Assert.Contains($"project '{stack.Project.Name}': service 'api' (CONFIG_FILE) uses provider 'files', which dso.yaml does not define", status.Agent.ConfigError, StringComparison.Ordinal);
        stack.Set("app/config", "config-three");
        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-three");

        // The fix, with a setting bound at start changed too, applied at once on SIGHUP; the agent lives on.
        await File.WriteAllTextAsync(stack.Agent.ConfigPath, good + "logging:\n  level: warning\n", TestContext.Current.CancellationToken);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-HUP", stack.Agent.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, kill.ExitCode);
        }

        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_config_last_reload_successful") == 1, 20);
        Assert.False(stack.Agent.HasExited);
        await AgentLifecycleTests.WaitUntilAsync(() => Task.FromResult(stack.Agent.Output.Contains("bound at start: logging.level", StringComparison.Ordinal)), 10);
        status = JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!;
        Assert.Null(status.Agent.ConfigError);
        Assert.Equal(stack.Agent.ConfigPath, status.Agent.Config);
        stack.Set("app/config", "config-four");
        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-four");
    }

    [Fact]
    public async Task PointingVaultAtAnotherServer_WhoseVersionsNumberAlike_GivesTheContainersItsValues()
    {
        await engine.RequireAsync();
        using var dir = new TempDirectory();
        await using var first = await Dso.Fakes.CloudFake.StartAsync("vault", dir.Path);
        await using var second = await Dso.Fakes.CloudFake.StartAsync("vault", dir.Path);
        first.Put(first.Secret, "from-the-first-server");
        second.Put(second.Secret, "from-the-second-server");
        await using var stack = await RotationStack.UpAsync(first, $$"""
            services:
              api:
                image: {{TestImages.App}}
                command: ["serve", "8080", "TOKEN_FILE"]
                labels:
                  dso.strategy: live
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  TOKEN_FILE: dsofile://cloud:{{first.Secret}}
            """, first.Section("cloud"));
        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:TOKEN_FILE=from-the-first-server");

        // Both servers hold version 1 of the secret: only its value tells them apart.
        var text = await File.ReadAllTextAsync(stack.Agent.ConfigPath, TestContext.Current.CancellationToken);
        var firstAddress = first.Section("cloud").Split('\n').Single(l => l.Contains("endpoint:", StringComparison.Ordinal));
        var secondAddress = second.Section("cloud").Split('\n').Single(l => l.Contains("endpoint:", StringComparison.Ordinal));
        await File.WriteAllTextAsync(stack.Agent.ConfigPath, text.Replace(firstAddress, secondAddress, StringComparison.Ordinal), TestContext.Current.CancellationToken);

        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:TOKEN_FILE=from-the-second-server");
        Assert.Contains("provider(s) changed: cloud", stack.Agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADsoYamlOthersMayWrite_IsRefused_AtStartAndOnReload()
    {
        await engine.RequireAsync();
        await using var stack = await RotationStack.UpAsync(Compose, new() { ["app/config"] = "config-one" });
        await RotationStack.WaitForAnswerAsync(stack.Port, "FILE:CONFIG_FILE=config-one");

        // The original project's 0664 with a group other than root's: a member could make a root agent run anything.
        await Dso.Processes.ChildProcess.RunAsync("chgrp", ["nogroup", stack.Agent.ConfigPath], null, TestContext.Current.CancellationToken);
        File.SetUnixFileMode(stack.Agent.ConfigPath, (UnixFileMode)Convert.ToInt32("664", 8));
        await File.AppendAllTextAsync(stack.Agent.ConfigPath, "# touched\n", TestContext.Current.CancellationToken);
        await AgentLifecycleTests.WaitUntilAsync(async () => await stack.MetricAsync("dso_config_last_reload_successful") == 0, 20);
        var status = JsonSerializer.Deserialize((await stack.Project.DsoOkAsync("status", "--json")).StandardOutput, IpcJson.Wire.StatusReport)!;
        Assert.Contains("may be changed by someone other than root", status.Agent.ConfigError, StringComparison.Ordinal);

        await stack.Agent.StopAsync();
        await stack.Agent.StartAsync(waitReady: false);
        Assert.Equal(1, await stack.Agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"dso: {stack.Agent.ConfigPath} (file, mode 0664, owner uid 0) may be changed by someone other than root", stack.Agent.Output, StringComparison.Ordinal);
    }
}
