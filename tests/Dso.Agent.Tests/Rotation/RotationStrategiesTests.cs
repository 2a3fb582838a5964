using Dso.Agent.Hosting;
using Dso.Agent.Rotation;
using Dso.Configuration;
using Dso.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dso.Agent.Tests.Rotation;

/// <summary>The agent's container as it starts: every strategy a policy can name (compose's and `swarm`) is there under its name.</summary>
public sealed class RotationStrategiesTests
{
    [Fact]
    public async Task EveryStrategyAPolicyCanName_IsRegisteredUnderThatName_AndNoOther()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        string? Variable(string name) => agent.Environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name);
        await using var app = AgentHost.Build(ConfigLoader.Load(agent.ConfigPath, Variable, dir.Path), Variable, "warning", _ => { });
        var strategies = app.Services.GetRequiredService<RotationStrategies>();

        foreach (var name in RotationDefaults.Strategies.Append(Dso.Agent.Projects.ProjectRegistry.SwarmStrategy))
        {
            Assert.Equal(name, strategies.Find(name)?.Name);
        }

        Assert.Null(strategies.Find("explode"));
        Assert.Equal(["live", "none", "restart", "rolling", "signal", "swarm"], strategies.Names);
    }
}
