using System.Net;
using System.Net.Sockets;
using Docker.DotNet.Models;
using Dso.Configuration;
using Dso.Injection.Planning;

namespace Dso.Agent.Rotation;

/// <summary>
/// Decides when a new container is ready for traffic (spec 6): its Docker HEALTHCHECK when the
/// image or compose file defines one; else the probe label (`tcp:PORT`, `http:PORT[/PATH]`,
/// `running:DURATION`); else a
/// TCP connect to each proxied container port; else still running one second after start. Polls
/// every 100 ms until the health timeout; a container that exits or turns unhealthy fails at once.
/// </summary>
internal sealed class HealthGate(EngineContainers engine, TimeProvider time)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>For `http:` probes: straight to the container (never through a proxy from the agent's environment), no redirects followed (a 3xx is an answer).</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromSeconds(5) })
    {
        Timeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>Null when every container is ready; else why one is not.</summary>
    public async Task<string?> WaitAsync(IReadOnlyList<string> containerIds, ServicePolicy policy, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + policy.HealthTimeout;
        foreach (var id in containerIds)
        {
            if (await WaitOneAsync(id, policy, deadline, cancellationToken) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private async Task<string?> WaitOneAsync(string id, ServicePolicy policy, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        while (true)
        {
            var inspect = await engine.TryInspectAsync(id, cancellationToken);
            if (inspect?.State is not { } state)
            {
                return $"the new container {id[..12]} vanished";
            }

            if (!state.Running)
            {
                return $"the new container {id[..12]} exited (code {state.ExitCode}) before it was healthy";
            }

            var verdict = await CheckAsync(inspect, policy, started, cancellationToken);
            if (verdict.Ready)
            {
                return null;
            }

            if (verdict.Failed is { } failed)
            {
                return $"the new container {id[..12]} {failed}";
            }

            if (time.GetUtcNow() >= deadline)
            {
                return $"the new container {id[..12]} was not healthy within {Duration.Format(policy.HealthTimeout)} ({verdict.Waiting})";
            }

            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    private async Task<(bool Ready, string? Failed, string Waiting)> CheckAsync(ContainerInspectResponse inspect, ServicePolicy policy, DateTimeOffset started, CancellationToken cancellationToken)
    {
        if (inspect.State?.Health is { Status: { Length: > 0 } status } && HasHealthcheck(inspect))
        {
            return status switch
            {
                "healthy" => (true, null, string.Empty),
                "unhealthy" => (false, "is unhealthy by its HEALTHCHECK", string.Empty),
                _ => (false, null, $"HEALTHCHECK says {status}"),
            };
        }

        var address = EngineContainers.AddressOf(inspect.NetworkSettings?.Networks);
        if (policy.Probe is { } probe)
        {
            var colon = probe.IndexOf(':', StringComparison.Ordinal);
            var argument = probe[(colon + 1)..];
            if (probe.StartsWith("tcp:", StringComparison.Ordinal))
            {
                var port = int.Parse(argument, System.Globalization.CultureInfo.InvariantCulture);
                return await ConnectsAsync(address, port, cancellationToken) ? (true, null, string.Empty) : (false, null, $"no TCP answer on port {port}");
            }

            if (probe.StartsWith("http:", StringComparison.Ordinal) && HttpProbe.TryParse(argument, out var httpPort, out var path, out var expect))
            {
                return await AnswersAsync(address, httpPort, path, expect, cancellationToken) is { } waiting ? (false, null, waiting) : (true, null, string.Empty);
            }

            var wanted = Duration.TryParse(argument, out var parsed) ? parsed : TimeSpan.FromSeconds(1);
            return time.GetUtcNow() - started >= wanted ? (true, null, string.Empty) : (false, null, $"running for less than {argument}");
        }

        if (policy.ProxiedPorts.Count > 0)
        {
            foreach (var port in policy.ProxiedPorts.Select(p => p.ContainerPort).Distinct())
            {
                if (!await ConnectsAsync(address, port, cancellationToken))
                {
                    return (false, null, $"no TCP answer on port {port}");
                }
            }

            return (true, null, string.Empty);
        }

        return time.GetUtcNow() - started >= TimeSpan.FromSeconds(1) ? (true, null, string.Empty) : (false, null, "running for less than 1s");
    }

    private static bool HasHealthcheck(ContainerInspectResponse inspect) =>
        inspect.Config?.Healthcheck?.Test is { Count: > 0 } test && test[0] != "NONE";

    /// <summary>Null when GET PATH on the container answers a status <paramref name="expect"/> accepts (2xx or 3xx by default); else what it did instead.</summary>
    private static async Task<string?> AnswersAsync(IPAddress? address, int port, string path, string expect, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return "no address to send the HTTP probe to";
        }

        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        try
        {
            using var response = await Http.GetAsync(new Uri($"http://{host}:{port}{path}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var code = (int)response.StatusCode;
            return HttpProbe.Accepts(expect, code) ? null : $"HTTP {code} from GET {path} on port {port}" + (expect == HttpProbe.DefaultExpect ? string.Empty : $", expected {expect}");
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return $"no HTTP answer from GET {path} on port {port}";
        }
    }

    private static async Task<bool> ConnectsAsync(IPAddress? address, int port, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return false;
        }

        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }
}
