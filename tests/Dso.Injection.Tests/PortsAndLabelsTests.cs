using Dso.Injection.Compose;
using Dso.Injection.Planning;
using Dso.Ipc;

namespace Dso.Injection.Tests;

/// <summary>Compose `ports:` as compose reads them, the rotation labels, and taking proxied ports out of a rendered project.</summary>
public sealed class PortsAndLabelsTests
{
    [Theory]
    [InlineData("8080:80", "", 8080, 80, "tcp")]
    [InlineData("127.0.0.1:9000:9000/tcp", "127.0.0.1", 9000, 9000, "tcp")]
    [InlineData("53:53/udp", "", 53, 53, "udp")]
    [InlineData("[::1]:8443:443", "::1", 8443, 443, "tcp")]
    public void ShortSyntax_IsReadAsCompose(string text, string hostIp, int published, int target, string protocol)
    {
        var port = Assert.Single(PublishedPort.ParseShort(text, "compose.yaml:4", "api"));

        Assert.Equal(new PublishedPort(hostIp, published, target, protocol, "compose.yaml:4"), port);
    }

    [Fact]
    public void RangesExpand_AndAContainerPortAloneGetsAnEphemeralHostPort()
    {
        Assert.Equal([(9000, 9000), (9001, 9001)], PublishedPort.ParseShort("9000-9001:9000-9001", "f:1", "api").Select(p => (p.Published!.Value, p.Target)));
        Assert.Null(Assert.Single(PublishedPort.ParseShort("80", "f:1", "api")).Published);
    }

    [Theory]
    [InlineData("99999:80", "'99999' is not a port number")]
    [InlineData("8080:80/quic", "protocol 'quic' is not tcp, udp or sctp")]
    [InlineData("9000-9002:80", "a range of host ports for one container port")]
    [InlineData("host.local:80:80", "'host.local' is not an IP address")]
    public void BadPorts_AreOneLineNamingTheService(string text, string problem)
    {
        var error = Assert.Throws<DsoException>(() => PublishedPort.ParseShort(text, "compose.yaml:7", "api").ToList());

        Assert.StartsWith($"compose.yaml:7: port '{text}' of service api: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_GiveStrategySignalProbeAndProxiedPorts_AndTheSeedsLabelIsAccepted()
    {
        var service = Service(new() { ["dso.update.strategy"] = "rolling", ["dso.signal"] = "usr1", ["dso.host_ports"] = "3306:3306, 127.0.0.1:8081:81", ["dso.health.probe"] = "tcp:3306" }, [new PublishedPort(string.Empty, 8080, 80, "tcp", "compose.yaml:9"), new PublishedPort(string.Empty, 53, 53, "udp", "compose.yaml:10")]);

        var rotation = RotationLabels.Read(service);

        Assert.Equal(("rolling", "SIGUSR1", "tcp:3306"), (rotation.Strategy, rotation.Signal, rotation.Probe));
        Assert.Equal(["0.0.0.0:8080->80 (ports)", "0.0.0.0:3306->3306 (dso.host_ports)", "127.0.0.1:8081->81 (dso.host_ports)"],
            rotation.Ports.Select(p => $"{p.HostIp}:{p.HostPort}->{p.ContainerPort} ({p.Source})"));
    }

    [Theory]
    [InlineData("http:8080", 8080, "/", "2xx,3xx")]
    [InlineData("http:80/healthz?full=1", 80, "/healthz?full=1", "2xx,3xx")]
    [InlineData("http://:8080/health", 8080, "/health", "2xx,3xx")]
    [InlineData("http://localhost:9000", 9000, "/", "2xx,3xx")]
    [InlineData("http://:8080/health 200", 8080, "/health", "200")]
    [InlineData("http:8080/ready 200,204,3xx", 8080, "/ready", "200,204,3xx")]
    public void AnHttpProbe_TakesAPortAnOptionalPath_AndTheStatusesThatCountAsHealthy(string probe, int port, string path, string expect)
    {
        var rotation = RotationLabels.Read(Service(new() { ["dso.health.probe"] = probe }, []));

        Assert.Equal(probe, rotation.Probe);
        Assert.True(HttpProbe.TryParse(probe["http:".Length..], out var parsedPort, out var parsedPath, out var parsedExpect));
        Assert.Equal((port, path, expect), (parsedPort, parsedPath, parsedExpect));
    }

    [Theory]
    [InlineData("2xx,3xx", 200, true)]
    [InlineData("2xx,3xx", 302, true)]
    [InlineData("2xx,3xx", 404, false)]
    [InlineData("2xx,3xx", 503, false)]
    [InlineData("200", 204, false)]
    [InlineData("200,204", 204, true)]
    [InlineData("4xx", 418, true)]
    public void AnHttpProbesStatuses_AcceptExactlyTheCodesAndClassesItNames(string expect, int status, bool healthy) =>
        Assert.Equal(healthy, HttpProbe.Accepts(expect, status));

    [Theory]
    [InlineData("dso.strategy", "bluegreen", "strategy 'bluegreen' is not one of live, signal, restart, rolling, none")]
    [InlineData("dso.signal", "SIGFOO", "label dso.signal 'SIGFOO' is not a signal name")]
    [InlineData("dso.health.probe", "http:80x/health", "is not tcp:PORT")]
    [InlineData("dso.health.probe", "http:80/a b", "http:PORT[/PATH]")]
    [InlineData("dso.health.probe", "grpc:80", "is not tcp:PORT")]
    [InlineData("dso.health.probe", "http://db.internal:8080/health", "http:PORT[/PATH]")]
    [InlineData("dso.health.probe", "http://:8080/health 2000", "statuses written after a space")]
    [InlineData("dso.health.probe", "http://:8080/health ok", "statuses written after a space")]
    [InlineData("dso.host_ports", "53:53/udp", "must be a TCP HOST:CONTAINER pair")]
    public void BadLabels_FailWithOneLine(string label, string value, string problem)
    {
        var error = Assert.Throws<DsoException>(() => RotationLabels.Read(Service(new() { [label] = value }, [])));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rendering_TakesOutOnlyTheProxiedPorts_AndTheSentinel_KeepingEscapedDollars()
    {
        const string config = """
            services:
              api:
                environment:
                  A: has$$dollar
                image: busybox
                labels:
                  dso.managed: 'true'
                  dso.render-check: $$
                ports:
                - published: 8080
                  target: 80
                - 127.0.0.1:9000:9000/tcp
                - protocol: udp
                  published: 53
                  target: 53
            version: '3.9'
            """;

        var rendered = ComposeRenderer.RemovePorts(config, new Dictionary<string, IReadOnlyList<PortRegistration>>
        {
            ["api"] = [new PortRegistration("0.0.0.0", 8080, 80, PortRegistration.FromCompose, "c:1"), new PortRegistration("127.0.0.1", 9000, 9000, PortRegistration.FromCompose, "c:2")],
        });

        Assert.DoesNotContain("8080", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("9000", rendered, StringComparison.Ordinal);
        Assert.Contains("published: 53", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("dso.render-check", rendered, StringComparison.Ordinal);
        Assert.Contains("has$$dollar", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("has$$$$dollar", rendered, StringComparison.Ordinal);
    }

    [Fact]
    public void Rendering_DoublesDollars_WhenComposeDidNot()
    {
        const string config = "services:\n  api:\n    command: [echo, $HOME]\n    labels:\n      dso.render-check: $\n    ports: ['8080:80']\n";

        var rendered = ComposeRenderer.RemovePorts(config, new Dictionary<string, IReadOnlyList<PortRegistration>> { ["api"] = [new PortRegistration("0.0.0.0", 8080, 80, PortRegistration.FromCompose, "c:1")] });

        Assert.Contains("$$HOME", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("ports:", rendered, StringComparison.Ordinal);
    }

    private static ComposeService Service(Dictionary<string, string> labels, IReadOnlyList<PublishedPort> ports) =>
        new("api", "compose.yaml:3", "busybox", false, null, null, [], [], null, labels, [], null, ports);
}
