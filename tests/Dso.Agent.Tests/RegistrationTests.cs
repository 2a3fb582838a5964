using System.Net;
using System.Net.Http.Json;
using Dso.Ipc;
using Dso.Launching;
using Dso.Native;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>What the agent does with a registered project, without containers: files, state, repairs.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public async Task Register_WritesEachServicesSecrets_WithOwners_AndRemembersTheProject()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "db-value", ["shop/key"] = "key-value" });
        await using var agent = new AgentProcess(dir, files.Yaml);
        await agent.StartAsync();
        using var ipc = agent.Ipc();

        using var response = await Registrations.RegisterAsync(ipc, Registrations.Project("shop", ("api", 1000, [("DB", "dso://shop/db"), ("KEY_FILE", "dsofile://shop/key?mode=0440")])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync(IpcJson.Wire.RegistrationResult, TestContext.Current.CancellationToken))!;
        var service = Assert.Single(result.Services);
        Assert.Equal(Path.Combine(agent.SecretsDirectory, "shop", "api", "current"), service.Directory);
        Assert.Equal(32, service.Fingerprint.Length);
        var manifest = LauncherManifest.Parse(File.ReadAllText(Path.Combine(service.Directory, LauncherManifest.FileName)));
        Assert.Equal("db-value", File.ReadAllText(Path.Combine(service.Directory, manifest.Single(e => e.Variable == "DB").File)));
        var key = UnixFiles.Ownership(Path.Combine(service.Directory, "key"));
        Assert.Equal((1000u, (UnixFileMode)Convert.ToInt32("440", 8)), (key.Uid, key.Mode));
        Assert.True(File.Exists(Path.Combine(agent.StateDirectory, "projects", "shop.json")));
        Assert.DoesNotContain("db-value", File.ReadAllText(Path.Combine(agent.StateDirectory, "projects", "shop.json")), StringComparison.Ordinal);
        var status = (await ipc.GetFromJsonAsync("/v1/status", IpcJson.Wire.StatusReport, TestContext.Current.CancellationToken))!;
        var project = Assert.Single(status.Projects);
        Assert.Equal(("shop", "ok", 2), (project.Name, project.Services[0].State, project.Services[0].Secrets));
    }

    [Fact]
    public async Task AnUnresolvableReference_Is422WithEveryProblem_AndWritesNothing()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "v" });
        await using var agent = new AgentProcess(dir, files.Yaml);
        await agent.StartAsync();
        using var ipc = agent.Ipc();

        using var response = await Registrations.RegisterAsync(ipc, Registrations.Project("shop", ("api", 0, [("DB", "dso://shop/db"), ("A", "dso://shop/missing"), ("B", "dso://aws:x")])));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync(IpcJson.Wire.ErrorResponse, TestContext.Current.CancellationToken))!;
        Assert.StartsWith("compose.yaml:11: dso://shop/missing: provider files: no secret named shop/missing", error.Error, StringComparison.Ordinal);
        Assert.Equal(2, error.Problems!.Count);
        Assert.False(Directory.Exists(Path.Combine(agent.SecretsDirectory, "shop")));
        Assert.False(File.Exists(Path.Combine(agent.StateDirectory, "projects", "shop.json")));
    }

    [Theory]
    [InlineData("../etc", "api", "is not a compose project name")]
    [InlineData("shop", "../x", "is not a compose service name")]
    public async Task NamesThatCouldEscapeTheirDirectory_AreRefused(string project, string service, string message)
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();
        using var ipc = agent.Ipc();

        using var response = await Registrations.RegisterAsync(ipc, Registrations.Project(project, (service, 0, [("A", "dso://x/y")])));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WipedSecrets_AreRestoredFromTheCache_AndARefreshServesTheLastKnownGoodWhenTheProviderFails()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "cached-value" });
        await using var agent = new AgentProcess(dir, files.Yaml);
        await agent.StartAsync();
        using var ipc = agent.Ipc();
        using (var registered = await Registrations.RegisterAsync(ipc, Registrations.Project("shop", ("api", 0, [("DB", "dsofile://shop/db")]))))
        {
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        }

        files.WriteRaw("{ this is not json");
        Directory.Delete(Path.Combine(agent.SecretsDirectory, "shop"), recursive: true);
        var restored = Path.Combine(agent.SecretsDirectory, "shop", "api", "current", "db");
        // The files are written before the repair is counted: wait for both.
        await AgentLifecycleTests.WaitUntilAsync(async () => File.Exists(restored) && AgentProcess.Metric(await agent.MetricsAsync(), "dso_repairs_total") >= 1);

        Assert.Equal("cached-value", File.ReadAllText(restored));
        var afterRepair = await agent.MetricsAsync();
        Assert.Equal(1, AgentProcess.Metric(afterRepair, "dso_repairs_total"));
        Assert.Equal(1, AgentProcess.Metric(afterRepair, "dso_cache_hits_total"));

        using var rotate = await ipc.PostAsJsonAsync("/v1/rotate", new RotateRequest(null, [], null, Force: true), IpcJson.Wire.RotateRequest, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.Equal("cached-value", File.ReadAllText(restored));
        Assert.True(AgentProcess.Metric(await agent.MetricsAsync(), "dso_cache_last_known_good_total") >= 1);
        var status = (await ipc.GetFromJsonAsync("/v1/status", IpcJson.Wire.StatusReport, TestContext.Current.CancellationToken))!;
        var provider = status.Providers.Single(p => p.Name == "files");
        Assert.Equal("error", provider.State);
        Assert.Contains("is not valid JSON", provider.LastError, StringComparison.Ordinal);
        Assert.True(provider.Insecure);
    }

    [Fact]
    public async Task WithoutACachedValue_ARepairFails_AndStatusSaysWhy()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "v" });
        await using var agent = new AgentProcess(dir, files.Yaml);
        File.WriteAllText(agent.ConfigPath, File.ReadAllText(agent.ConfigPath).Replace("  check_interval: 500ms", "  check_interval: 500ms\n  cache: false", StringComparison.Ordinal));
        await agent.StartAsync();
        using var ipc = agent.Ipc();
        (await Registrations.RegisterAsync(ipc, Registrations.Project("shop", ("api", 0, [("DB", "dso://shop/db")])))).Dispose();

        files.Write([]);
        Directory.Delete(Path.Combine(agent.SecretsDirectory, "shop"), recursive: true);
        ServiceStatus? service = null;
        await AgentLifecycleTests.WaitUntilAsync(async () =>
        {
            var status = (await ipc.GetFromJsonAsync("/v1/status", IpcJson.Wire.StatusReport))!;
            service = status.Projects.Single().Services.Single();
            return service.State == "error";
        });

        Assert.Contains("dso://shop/db: provider files: no secret named shop/db", service!.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(agent.SecretsDirectory, "shop", "api", "current", LauncherManifest.FileName)));
    }

    [Fact]
    public async Task RestartingTheAgent_KeepsItsProjects_AndRewritesNothing()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "first" });
        await using var agent = new AgentProcess(dir, files.Yaml);
        await agent.StartAsync();
        using (var ipc = agent.Ipc())
        {
            (await Registrations.RegisterAsync(ipc, Registrations.Project("shop", ("api", 0, [("DB_FILE", "dsofile://shop/db")])))).Dispose();
        }

        var file = Path.Combine(agent.SecretsDirectory, "shop", "api", "current", "db");
        var written = File.GetLastWriteTimeUtc(file);
        await agent.StopAsync();

        await agent.StartAsync();
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        var restarted = agent;
        using var client = restarted.Ipc();
        var status = (await client.GetFromJsonAsync("/v1/status", IpcJson.Wire.StatusReport, TestContext.Current.CancellationToken))!;

        Assert.Equal("shop", Assert.Single(status.Projects).Name);
        Assert.Equal("first", File.ReadAllText(file));
        Assert.Equal(written, File.GetLastWriteTimeUtc(file));
        var metrics = await restarted.MetricsAsync();
        Assert.Equal(0, AgentProcess.Metric(metrics, "dso_materializations_total{trigger=\"startup\",result=\"ok\"}"));
        Assert.DoesNotContain("dso_rotations_total{", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_WipesTheSecrets_AndForgetsTheProject()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        files.Write(new() { ["shop/db"] = "v" });
        await using var agent = new AgentProcess(dir, files.Yaml);
        await agent.StartAsync();
        using var ipc = agent.Ipc();
        (await Registrations.RegisterAsync(ipc, Registrations.Project("shop", ("api", 0, [("DB", "dso://shop/db")])))).Dispose();

        using var removed = await ipc.DeleteAsync("/v1/projects/shop", TestContext.Current.CancellationToken);
        using var again = await ipc.DeleteAsync("/v1/projects/shop", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(agent.SecretsDirectory, "shop")));
        Assert.False(File.Exists(Path.Combine(agent.StateDirectory, "projects", "shop.json")));
    }
}
