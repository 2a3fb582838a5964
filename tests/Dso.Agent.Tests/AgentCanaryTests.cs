using System.Text;
using Dso.Fakes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>
/// The canary suite with the agent: values planted in the local vault and in every cloud provider's fake, with
/// characters that change under base64, hex and URL encoding, go through up, a rolling swap the
/// agent is killed in the middle of (and recovers from when started again), a live, a signal and a
/// restart rotation, a reboot of a container and down, with the agent logging at debug. Then no form of any
/// of them is in a disk tree, a log, the audit log, the agent's output, `docker inspect`, or the
/// command line or environment of any process DSO started.
/// </summary>
public sealed class AgentCanaryTests(EngineFixture engine)
{
    private static string Canary() => $"canary+/={Guid.NewGuid():N}&?";

    [Fact]
    public async Task Canaries_FromEveryKindOfProvider_ThroughUpRotationRebootAndDown_AreNowhereTheyMustNotBe()
    {
        await engine.RequireAsync();
        using var dir = new TempDirectory("dso-canary-agent-");
        var home = Directory.CreateDirectory(dir.Combine("home")).FullName;
        await using var fake = await CloudFake.StartAsync("vault", dir.Path);
        // The other clouds' fakes, each with a canary a service reads as a file (strategy none: only up, reboot and down).
        await using var aws = await CloudFake.StartAsync("aws", dir.Path);
        await using var azure = await CloudFake.StartAsync("azure", dir.Path);
        await using var huawei = await CloudFake.StartAsync("huawei", dir.Path);
        CloudFake[] others = [aws, azure, huawei];
        var otherCanaries = others.ToDictionary(o => o.Type, _ => Canary());
        foreach (var other in others)
        {
            other.Put(other.Secret, otherCanaries[other.Type]);
        }

        var cloudFirst = Canary();
        var cloudSecond = Canary();
        var localFirst = Canary();
        var localSecond = Canary();
        var edgeFirst = Canary();
        var edgeSecond = Canary();
        string[] canaries = [cloudFirst, cloudSecond, localFirst, localSecond, edgeFirst, edgeSecond, .. otherCanaries.Values];
        fake.Put(fake.Secret, cloudFirst);

        await using var stack = await Rotation.RotationStack.UpAsync(
            fake,
            $$"""
            services:
              api:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                restart: always
                labels:
                  dso.strategy: live
                environment:
                  CLOUD_FILE: dsofile://cloud:{{fake.Secret}}
              web:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: restart
                environment:
                  LOCAL: dso://local:app/local
              hup:
                image: {{TestImages.Busybox}}
                command: ["sleep", "3600"]
                labels:
                  dso.strategy: signal
                environment:
                  LOCAL_FILE: dsofile://local:app/local
              edge:
                image: {{TestImages.App}}
                command: ["serve", "8080", "EDGE"]
                labels:
                  dso.strategy: rolling
                ports: ["127.0.0.1:{PORT}:8080"]
                environment:
                  EDGE: dso://local:app/edge
            {{string.Concat(others.Select(o => $"  {o.Type}:\n    image: {TestImages.Busybox}\n    command: [\"sleep\", \"3600\"]\n    labels:\n      dso.strategy: none\n    environment:\n      TOKEN_FILE: dsofile://{o.Type}:{o.Secret}\n"))}}
            """,
            extraYaml: fake.Section("cloud") + string.Concat(others.Select(o => o.Section(o.Type))) + "  local:\n    type: local\n",
            secretsFirst: async stack =>
            {
                foreach (var (key, value) in others.SelectMany(o => o.Environment))
                {
                    stack.Agent.Environment[key] = value;
                }

                stack.Project.Environment["DSO_HOME"] = stack.Agent.Environment["DSO_HOME"];

                // The agent, the CLI and everything below them share a home of their own, scanned whole below.
                stack.Agent.Environment["HOME"] = home;
                stack.Project.Environment["HOME"] = home;
                await stack.Project.WithSecretsAsync(("app/local", localFirst), ("app/edge", edgeFirst));
                // The first swap (edge's) kills the agent right after its switch is journaled.
                stack.Agent.Environment[Dso.Agent.Rotation.RotationJournal.KillAfterPhaseVariable] = nameof(Dso.Agent.Rotation.SwapPhase.Switch);
            });
        Assert.Contains("EDGE=" + edgeFirst + "\n", await Rotation.RotationStack.WaitForAnswerAsync(stack.Port, "EDGE=" + edgeFirst + "\n"), StringComparison.Ordinal);

        // A rolling swap with a crash in the middle: started again, the agent finishes it.
        var edgeSet = await stack.Project.DsoWithInputAsync(Encoding.UTF8.GetBytes(edgeSecond), "secret", "set", "app/edge");
        Assert.True(edgeSet.Succeeded, edgeSet.StandardError);
        Assert.Equal(128 + 9, await stack.Agent.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        stack.Agent.Environment.Remove(Dso.Agent.Rotation.RotationJournal.KillAfterPhaseVariable);
        await stack.Agent.StartAsync();
        await Rotation.RotationStack.WaitForAnswerAsync(stack.Port, "EDGE=" + edgeSecond + "\n", 60);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await stack.TemporariesAsync()).Length == 0, 60);
        foreach (var other in others)
        {
            Assert.Equal(otherCanaries[other.Type], await EngineFixture.DockerOkAsync("exec", await stack.Project.ContainerAsync(other.Type), "cat", "/run/secrets/dso/token"));
        }

        var api = await stack.Project.ContainerAsync("api");
        Assert.Equal(cloudFirst, await EngineFixture.DockerOkAsync("exec", api, "cat", "/run/secrets/dso/token"));
        Assert.Equal(localFirst, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(await stack.Project.ContainerAsync("web")))["LOCAL"]);

        // Both rotate: the cloud value in place, the local one by restart (web) and in place with a signal (hup).
        fake.Put(fake.Secret, cloudSecond);
        var set = await stack.Project.DsoWithInputAsync(Encoding.UTF8.GetBytes(localSecond), "secret", "set", "app/local");
        Assert.True(set.Succeeded, set.StandardError);
        await stack.WaitForRotationsAsync("live", "rotated", 1);
        await stack.WaitForRotationsAsync("restart", "rotated", 1);
        await stack.WaitForRotationsAsync("signal", "rotated", 1);
        Assert.Equal(cloudSecond, await EngineFixture.DockerOkAsync("exec", api, "cat", "/run/secrets/dso/token"));
        Assert.Equal(localSecond, await EngineFixture.DockerOkAsync("exec", await stack.Project.ContainerAsync("hup"), "cat", "/run/secrets/dso/local"));
        var web = await stack.Project.ContainerAsync("web");
        Assert.Equal(localSecond, (await ComposeProjectUnderTest.Pid1EnvironmentAsync(web))["LOCAL"]);

        // A reboot of api: its RAM files gone, the engine restarts it, the agent restores them.
        Directory.Delete(Path.Combine(stack.Agent.SecretsDirectory, stack.Project.Name, "api"), recursive: true);
        await EngineFixture.DockerOkAsync("restart", "-t", "1", api);
        await AgentLifecycleTests.WaitUntilAsync(async () => (await EngineFixture.DockerAsync("exec", api, "cat", "/run/secrets/dso/token")) is { Succeeded: true, StandardOutput: var v } && v == cloudSecond, 60);

        // The scanner does find them where they belong: the RAM directory, while up.
        Assert.NotEmpty(CanaryScanner.FindIn([stack.Agent.SecretsDirectory], cloudSecond));
        Assert.NotEmpty(CanaryScanner.FindIn([stack.Agent.SecretsDirectory], localSecond));

        // While up: every process DSO started (the agent and its children), and docker inspect.
        var processes = Descendants(stack.Agent.Pid);
        Assert.NotEmpty(processes);
        var inspect = await EngineFixture.DockerOkAsync(["inspect", .. await stack.Project.AllContainersAsync()]);
        foreach (var canary in canaries)
        {
            foreach (var pid in processes)
            {
                Assert.False(CanaryScanner.Holds(Read($"/proc/{pid}/cmdline"), canary), $"process {pid}'s command line holds a canary");
                Assert.False(CanaryScanner.Holds(Read($"/proc/{pid}/environ"), canary), $"process {pid}'s environment holds a canary");
            }

            Assert.False(CanaryScanner.Holds(Encoding.UTF8.GetBytes(inspect), canary), "docker inspect holds a canary");
        }

        var down = await stack.Project.DsoAsync("down", "-t", "1");
        Assert.True(down.Succeeded, down.StandardError);
        var dataRoot = await EngineFixture.DockerOkAsync("info", "--format", "{{.DockerRootDir}}");
        string[] trees = [dataRoot, "/var/lib/containerd", "/run/docker", "/run/containerd", "/var/log", Path.GetTempPath(), stack.Project.Directory, stack.Agent.Directory.Path, stack.Agent.SecretsDirectory, home];
        var output = Encoding.UTF8.GetBytes(stack.Agent.Output + set.StandardOutput + set.StandardError + edgeSet.StandardOutput + edgeSet.StandardError + down.StandardOutput + down.StandardError);
        Assert.Contains("debug", stack.Agent.Output, StringComparison.OrdinalIgnoreCase);
        foreach (var canary in canaries)
        {
            Assert.Empty(CanaryScanner.FindIn(trees, canary));
            Assert.False(CanaryScanner.Holds(output, canary), "the agent's or a command's output holds a canary");
        }
    }

    /// <summary>A process and every process below it.</summary>
    private static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    parents[pid] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                }
            }
        }

        var found = new List<int> { root };
        for (var i = 0; i < found.Count; i++)
        {
            found.AddRange(parents.Where(p => p.Value == found[i]).Select(p => p.Key));
        }

        return found;
    }

    private static byte[] Read(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return [];
        }
    }
}
