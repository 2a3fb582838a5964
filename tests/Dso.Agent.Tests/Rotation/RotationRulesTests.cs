using Dso.Agent.Rotation;
using Dso.Configuration;
using Dso.Ipc;

namespace Dso.Agent.Tests.Rotation;

/// <summary>The rules that need no engine: settings precedence, dependency order, the point of no return.</summary>
public sealed class RotationRulesTests
{
    private static readonly PortRegistration ComposePort = new("0.0.0.0", 8080, 80, PortRegistration.FromCompose, "compose.yaml:5");
    private static readonly PortRegistration LabelPort = new("0.0.0.0", 3306, 3306, PortRegistration.FromLabel, "compose.yaml:7");

    [Fact]
    public void TheServiceLabelWins_ThenDefaults_ThenTheTopLevel_ThenTheAgent_ThenTheBuiltIns()
    {
        var config = new DsoConfig();
        config.Agent.Rotation = new RotationConfig { Strategy = "restart", GracePeriod = TimeSpan.FromSeconds(3), Signal = "USR1" };
        config.Rotation = new RotationConfig { GracePeriod = TimeSpan.FromSeconds(4) };
        config.Defaults.Rotation = new RotationConfig { HealthCheckTimeout = TimeSpan.FromSeconds(5) };

        var plain = ServicePolicy.For(Service(null), config);
        var labelled = ServicePolicy.For(Service(new ServiceRotation("live", "SIGUSR2", [], [])), config);
        var builtIn = ServicePolicy.For(Service(null), new DsoConfig());

        Assert.Equal(("restart", "SIGUSR1", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(4)), (plain.Strategy, plain.Signal, plain.HealthTimeout, plain.Grace));
        Assert.Equal(("live", "SIGUSR2"), (labelled.Strategy, labelled.Signal));
        Assert.Equal((RotationDefaults.Strategy, RotationDefaults.Signal, RotationDefaults.HealthCheckTimeout, RotationDefaults.GracePeriod, true), (builtIn.Strategy, builtIn.Signal, builtIn.HealthTimeout, builtIn.Grace, builtIn.Enabled));
    }

    [Fact]
    public void ASecretsOwnStrategy_AppliesToAChangeOfThatSecret_TheMostThoroughCoversSeveral_TheLabelWinsOverAll()
    {
        var config = new DsoConfig();
        config.Defaults.Rotation = new RotationConfig { Strategy = "restart" };
        ServiceRegistration Of(ServiceRotation? rotation) => new("api", 0, 0, [
            new ReferenceRegistration("KEY_FILE", "dsofile://app/key", "dso.yaml: secrets[0] (keys).mappings.KEY_FILE", new SecretRotation("live", Grace: TimeSpan.FromSeconds(1))),
            new ReferenceRegistration("TOKEN_FILE", "dsofile://app/token", "dso.yaml: secrets[1] (tokens).mappings.TOKEN_FILE", new SecretRotation("signal", "SIGUSR2")),
            new ReferenceRegistration("DB", "dso://app/db", "compose.yaml:3")], rotation);
        HashSet<string> Changed(params string[] variables) => new(variables, StringComparer.Ordinal);
        var service = Of(new ServiceRotation(null, null, [ComposePort], []));

        Assert.Equal("live", ServicePolicy.For(service, config, Changed("KEY_FILE")).Strategy);
        Assert.Equal(TimeSpan.FromSeconds(1), ServicePolicy.For(service, config, Changed("KEY_FILE")).Grace);
        Assert.Equal(("signal", "SIGUSR2"), (ServicePolicy.For(service, config, Changed("TOKEN_FILE")).Strategy, ServicePolicy.For(service, config, Changed("TOKEN_FILE")).Signal));
        Assert.Equal("signal", ServicePolicy.For(service, config, Changed("KEY_FILE", "TOKEN_FILE")).Strategy);
        Assert.Equal("restart", ServicePolicy.For(service, config, Changed("DB")).Strategy);
        Assert.Equal("restart", ServicePolicy.For(service, config, Changed("KEY_FILE", "DB")).Strategy);
        Assert.Equal("restart", ServicePolicy.For(service, config).Strategy);
        Assert.Empty(ServicePolicy.For(service, config, Changed("KEY_FILE")).ProxiedPorts);
        Assert.Equal("rolling", ServicePolicy.For(Of(new ServiceRotation("rolling", null, [ComposePort], [])), config, Changed("KEY_FILE")).Strategy);
        Assert.Single(ServicePolicy.For(Of(new ServiceRotation("rolling", null, [ComposePort], [])), config, Changed("KEY_FILE")).ProxiedPorts);
    }

    [Theory]
    [InlineData("rolling", 2)]
    [InlineData("restart", 1)]
    [InlineData("live", 1)]
    public void TheProxyOwnsLabelPortsAlways_AndComposePortsOnlyOfRollingServices(string strategy, int proxied)
    {
        var policy = ServicePolicy.For(Service(new ServiceRotation(strategy, null, [ComposePort, LabelPort], [])), new DsoConfig());

        Assert.Equal(proxied, policy.ProxiedPorts.Count);
        Assert.Contains(LabelPort, policy.ProxiedPorts);
    }

    [Fact]
    public void ServicesRotateAfterWhatTheyDependOn_WithNameOrderForTiesAndCycles()
    {
        var dependsOn = new Dictionary<string, IReadOnlyList<string>>
        {
            ["web"] = ["api"],
            ["api"] = ["db", "cache"],
            ["worker"] = ["db"],
            ["x"] = ["y"],
            ["y"] = ["x"],
        };

        var order = DependencyOrder.Sort(["web", "worker", "api", "db", "cache", "x", "y"], s => dependsOn.GetValueOrDefault(s) ?? []);

        Assert.Equal(["cache", "db", "api", "web", "worker", "x", "y"], order);
    }

    [Fact]
    public void ASwapIsCommittedFromTheSwitchOn_InBothModes()
    {
        foreach (var mode in new[] { SwapPhases.Rolling, SwapPhases.Restart })
        {
            var order = SwapPhases.Order(mode);
            Assert.Equal(Enum.GetValues<SwapPhase>().Length, order.Count);
            var committed = order.Select(p => SwapPhases.IsCommitted(mode, p)).ToList();
            var switchAt = order.ToList().IndexOf(SwapPhase.Switch);
            Assert.All(committed.Take(switchAt), c => Assert.False(c));
            Assert.All(committed.Skip(switchAt), c => Assert.True(c));
        }

        Assert.True(SwapPhases.Order(SwapPhases.Restart).ToList().IndexOf(SwapPhase.StopOld) < SwapPhases.Order(SwapPhases.Restart).ToList().IndexOf(SwapPhase.Create));
        Assert.True(SwapPhases.Order(SwapPhases.Rolling).ToList().IndexOf(SwapPhase.StopOld) > SwapPhases.Order(SwapPhases.Rolling).ToList().IndexOf(SwapPhase.Switch));
    }

    private static ServiceRegistration Service(ServiceRotation? rotation) => new("api", 0, 0, [new ReferenceRegistration("DB", "dso://app/db", "compose.yaml:3")], rotation);
}
