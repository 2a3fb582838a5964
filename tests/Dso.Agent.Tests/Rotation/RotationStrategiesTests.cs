using Dso.Agent.Hosting;
using Dso.Agent.Rotation;
using Dso.Configuration;
using Dso.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dso.Agent.Tests.Rotation;

/// <summary>The agent's container as it starts: every strategy a policy can name is there under its name.</summary>
public sealed class RotationStrategiesTests
{
    [Fact]
    public async Task EveryStrategyAPolicyCanName_IsRegisteredUnderThatName_AndAnUnknownOneSaysWhichExist()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        string? Variable(string name) => agent.Environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name);
        await using var app = AgentHost.Build(ConfigLoader.Load(agent.ConfigPath, Variable, dir.Path), Variable, "warning", _ => { });
        var strategies = app.Services.GetRequiredService<RotationStrategies>();

        foreach (var name in RotationDefaults.Strategies)
        {
            Assert.Equal(name, strategies.Get(name).Name);
        }

        var unknown = Assert.Throws<DsoException>(() => strategies.Get("explode"));
        Assert.Equal("no rotation strategy 'explode' (known: live, none, restart, rolling, signal)", unknown.Message);
    }
}
