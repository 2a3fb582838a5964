using Dso.Processes;
using Dso.Testing;

namespace Dso.Swarm.Tests;

/// <summary>
/// A stack under test: a <see cref="ComposeProjectUnderTest"/> (its own directory, vault and
/// DSO_HOME) deployed with `docker dso stack deploy`. Disposing removes the stack with
/// `docker stack rm` and waits until its tasks and network are gone.
/// </summary>
internal sealed class SwarmStack : IAsyncDisposable
{
    public SwarmStack(string composeYaml)
    {
        Project = new ComposeProjectUnderTest(composeYaml);
    }

    public ComposeProjectUnderTest Project { get; }

    public string Name => Project.Name;

    public string Service(string service) => $"{Name}_{service}";

    public Task<ProcessResult> DeployAsync() => Project.DsoAsync("stack", "deploy", "-c", "compose.yaml", Name);

    public async Task<ProcessResult> DeployOkAsync()
    {
        var result = await DeployAsync();
        Assert.True(result.Succeeded, $"stack deploy failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
        return result;
    }

    public async Task SetSecretAsync(string name, string value)
    {
        var result = await Project.DsoWithInputAsync(System.Text.Encoding.UTF8.GetBytes(value), "secret", "set", name);
        Assert.True(result.Succeeded, result.StandardError);
    }

    /// <summary>Names of the Swarm secrets DSO made for this stack (by its labels).</summary>
    public async Task<string[]> SecretNamesAsync() =>
        (await EngineFixture.DockerOkAsync("secret", "ls", "--filter", $"label=dso.stack={Name}", "--format", "{{.Name}}"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The secret names the service's spec mounts now.</summary>
    public async Task<string[]> MountedSecretsAsync(string service) =>
        (await EngineFixture.DockerOkAsync("service", "inspect", Service(service), "--format", "{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} {{end}}"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Runs the test app as a client on the stack's attachable network (bounded by its own count and interval).</summary>
    public Task<ProcessResult> ProbeAsync(string host, int port, string name, int count, int intervalMs) =>
        ChildProcess.RunAsync("docker", ["run", "--rm", "--label", $"{TestImages.TestLabel}=true", "--network", $"{Name}_default", TestImages.App,
            "probe", host, port.ToString(System.Globalization.CultureInfo.InvariantCulture), name,
            count.ToString(System.Globalization.CultureInfo.InvariantCulture), intervalMs.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new ChildProcessOptions { Timeout = TimeSpan.FromMinutes(3) }, TestContext.Current.CancellationToken);

    /// <summary>The service's task output so far (docker service logs), bounded by a deadline while waiting for <paramref name="marker"/>.</summary>
    public async Task<string> LogsAsync(string service, string marker)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        string logs;
        do
        {
            logs = (await EngineFixture.DockerAsync("service", "logs", "--raw", Service(service))).StandardOutput;
            if (logs.Contains(marker, StringComparison.Ordinal))
            {
                return logs;
            }

            await Task.Delay(300, TestContext.Current.CancellationToken);
        }
        while (DateTimeOffset.UtcNow < deadline);
        return logs;
    }

    public async ValueTask DisposeAsync()
    {
        await EngineFixture.DockerAsync("stack", "rm", Name);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
        while (DateTimeOffset.UtcNow < deadline)
        {
            var containers = (await EngineFixture.DockerAsync("ps", "-aq", "--filter", $"label=com.docker.stack.namespace={Name}")).StandardOutput.Trim();
            var networks = (await EngineFixture.DockerAsync("network", "ls", "-q", "--filter", $"label=com.docker.stack.namespace={Name}")).StandardOutput.Trim();
            if (containers.Length == 0 && networks.Length == 0)
            {
                break;
            }

            await Task.Delay(500);
        }

        await Project.DisposeAsync();
    }
}
