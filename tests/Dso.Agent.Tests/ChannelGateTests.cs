using System.Net;
using System.Net.Sockets;
using System.Text;
using Dso.Agent.Endpoints;
using Dso.Agent.Hosting;
using Dso.Configuration;
using Dso.Ipc;
using Dso.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Dso.Agent.Tests;

/// <summary>
/// G10: which endpoint a request may reach is decided per endpoint, after routing. The agent's real
/// application is built in process, every endpoint it maps is read from its endpoint data source
/// and asked for on both channels — the Unix socket and TCP, with raw HTTP so no client library
/// normalises the path — in every spelling routing might accept. A marker after the gate records
/// which endpoint a request got through to (and stops it there, so no handler acts). An endpoint
/// added later is covered without touching this test.
/// </summary>
public sealed class ChannelGateTests
{
    private const string ReachedHeader = "X-Test-Reached";

    [Fact]
    public async Task EveryEndpoint_IsReachedOnlyOnItsOwnChannel_WhateverThePathSpellingOrMethod()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir, secretDriver: $"/run/docker/plugins/dsog{Guid.NewGuid():N}"[..32] + ".sock", secretsEngine: dir.Combine("run", "se.sock"));
        var loaded = ConfigLoader.Load(agent.ConfigPath, Variable(agent), dir.Path);
        await using var app = AgentHost.Build(loaded, Variable(agent), "warning", _ => { });
        // A route mapped outside the agent's groups carries no channel metadata: refused everywhere.
        app.MapGet("/v1/unlabelled", () => "reached");
        app.Use((HttpContext context, RequestDelegate _) =>
        {
            context.Response.StatusCode = 299;
            context.Response.Headers[ReachedHeader] = ChannelGate.RouteOf(context.GetEndpoint());
            return Task.CompletedTask;
        });
        await AgentHost.StartAsync(app, TestContext.Current.CancellationToken);
        try
        {
            var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
            var channelsByRoute = endpoints.ToDictionary(e => ChannelGate.RouteOf(e), e => e.Metadata.GetMetadata<ChannelMetadata>()?.Channels ?? Channel.None);
            var paths = endpoints.SelectMany(e => Spellings(Concrete(e))).Distinct(StringComparer.Ordinal).ToList();
            var methods = new[] { "GET", "HEAD", "POST", "DELETE", "PUT" };
            var breaches = new List<string>();
            var reached = new HashSet<(string Route, Channel Channel, string Method)>();
            foreach (var path in paths)
            {
                foreach (var method in methods)
                {
                    foreach (var channel in new[] { Channel.Ipc, Channel.Rest, Channel.Driver, Channel.SecretsEngine })
                    {
                        var (status, route) = await SendAsync(agent, channel, method, path);
                        if (route is null)
                        {
                            continue;
                        }

                        reached.Add((route, channel, method));
                        if (!channelsByRoute.TryGetValue(route, out var allowed) || !allowed.HasFlag(channel))
                        {
                            breaches.Add($"{method} {path} on {channel} reached {route} ({status})");
                        }
                    }
                }
            }

            Assert.Empty(breaches);
            // Not vacuous: each endpoint is reached, on each channel its metadata names, by its own path and method.
            foreach (var endpoint in endpoints.Where(e => ChannelGate.RouteOf(e) != "/v1/unlabelled"))
            {
                var route = ChannelGate.RouteOf(endpoint);
                var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods[0] ?? "GET";
                foreach (var channel in new[] { Channel.Ipc, Channel.Rest, Channel.Driver, Channel.SecretsEngine }.Where(c => channelsByRoute[route].HasFlag(c)))
                {
                    Assert.True(reached.Contains((route, channel, method)), $"{method} {route} was never reached on {channel}");
                }
            }

            Assert.DoesNotContain(reached, r => r.Route == "/v1/unlabelled");
            Assert.Contains(reached, r => r.Route == "/v1/status" && r.Channel == Channel.Ipc);
            Assert.Contains(reached, r => r.Route == "/SecretProvider.GetSecret" && r.Channel == Channel.Driver);
            Assert.Contains(reached, r => r.Route == "/resolver.v1.ResolverService/GetSecrets" && r.Channel == Channel.SecretsEngine);
            Figures.Record("G10", "channel gate: requests tried against every mapped endpoint (spellings × methods × the four channels: IPC socket, REST, secret driver socket, Secrets Engine resolver socket), and how many reached an endpoint on a channel it is not served on", $"{paths.Count * methods.Length * 4} requests over {endpoints.Count} endpoints; {breaches.Count} breaches");
        }
        finally
        {
            await app.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task SocketOnlyRoutes_AnswerNotFoundOverTcp_InTheSpellingsTheReviewUsed()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();

        foreach (var (method, path) in new[] { ("GET", "/V1/status"), ("GET", "/v1/STATUS"), ("POST", "/V1/projects"), ("POST", "/V1/rotate"), ("POST", "/V1/swarm/stacks"), ("DELETE", "/V1/projects/shop"), ("GET", "//v1/status"), ("GET", "/v1/status/"), ("GET", "/%761/status") })
        {
            var (status, body) = await RawAsync(agent, Channel.Rest, method, path, "{}");
            Assert.True(status == 404, $"{method} {path} over TCP answered {status}: {body}");
            Assert.DoesNotContain("\"agent\"", body, StringComparison.Ordinal);
        }

        // On the socket, an empty registration is a client error, not a crash.
        var (registered, answer) = await RawAsync(agent, Channel.Ipc, "POST", "/v1/projects", "{}");
        Assert.Equal(400, registered);
        Assert.Contains("the registration has no name", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateChangingRestRequests_ThatABrowserCouldSendCrossSite_AreRefused()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir, "    webhook_secret: k3y-for-tests\n");
        await agent.StartAsync();

        var plain = await RawAsync(agent, Channel.Rest, "POST", "/v1/webhook/local", "{}", contentType: "text/plain");
        var form = await RawAsync(agent, Channel.Rest, "POST", "/v1/webhook/local", "{}", contentType: "application/x-www-form-urlencoded");
        var origin = await RawAsync(agent, Channel.Rest, "POST", "/v1/webhook/local", "{}", extraHeaders: "Origin: https://evil.example\r\n");
        var rebound = await RawAsync(agent, Channel.Rest, "GET", "/metrics", null, host: "evil.example");
        var json = await RawAsync(agent, Channel.Rest, "POST", "/v1/webhook/local", "{}");

        Assert.Equal(403, plain.Status);
        Assert.Contains("Content-Type: application/json", plain.Body, StringComparison.Ordinal);
        Assert.Equal(403, form.Status);
        Assert.Equal(403, origin.Status);
        Assert.Contains("web browser", origin.Body, StringComparison.Ordinal);
        Assert.Equal(403, rebound.Status);
        Assert.DoesNotContain("dso_", rebound.Body, StringComparison.Ordinal);
        Assert.NotEqual(403, json.Status);
        Assert.Equal(200, (await RawAsync(agent, Channel.Rest, "GET", "/metrics", null, host: "localhost")).Status);
    }

    private static Func<string, string?> Variable(AgentProcess agent) =>
        name => agent.Environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name);

    /// <summary>The endpoint's route with each parameter filled in.</summary>
    private static string Concrete(RouteEndpoint endpoint) =>
        "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => parameter.Name == "provider" ? "local" : "shop",
            _ => "x",
        }))));

    /// <summary>Ways to write a path that routing may still match: case, doubled and trailing slashes, percent-encoding, prefixes and extensions.</summary>
    private static IEnumerable<string> Spellings(string path)
    {
        yield return path;
        yield return path.ToUpperInvariant();
        yield return string.Concat(path.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
        yield return "/" + path;
        yield return path.Replace("/", "//", StringComparison.Ordinal);
        yield return path + "/";
        yield return path + "x";
        yield return path + "/x";
        yield return "/" + path[1..].Replace("/", "%2F", StringComparison.Ordinal);
        yield return "/%2F" + path[1..];
        var letter = path.IndexOf(path.FirstOrDefault(char.IsAsciiLetter));
        if (letter > 0)
        {
            yield return path[..letter] + $"%{(int)path[letter]:X2}" + path[(letter + 1)..];
            yield return path[..letter] + $"%{(int)path[letter]:x2}" + path[(letter + 1)..];
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 1; i < segments.Length; i++)
        {
            yield return "/" + string.Join('/', segments[..i]);
        }
    }

    private static async Task<(int Status, string? Route)> SendAsync(AgentProcess agent, Channel channel, string method, string path)
    {
        var (status, _, headers) = await RawWithHeadersAsync(agent, channel, method, path, method is "POST" or "PUT" ? "{}" : null, "application/json", null, "127.0.0.1");
        return (status, status == 299 && headers.TryGetValue(ReachedHeader, out var route) ? route : null);
    }

    private static async Task<(int Status, string Body)> RawAsync(AgentProcess agent, Channel channel, string method, string path, string? body, string contentType = "application/json", string? extraHeaders = null, string host = "127.0.0.1")
    {
        var (status, text, _) = await RawWithHeadersAsync(agent, channel, method, path, body, contentType, extraHeaders, host);
        return (status, text);
    }

    /// <summary>One HTTP/1.1 request written byte for byte (the path exactly as given), on the socket or on TCP.</summary>
    private static async Task<(int Status, string Body, Dictionary<string, string> Headers)> RawWithHeadersAsync(AgentProcess agent, Channel channel, string method, string path, string? body, string contentType, string? extraHeaders, string host)
    {
        using var socket = channel is Channel.Ipc or Channel.Driver or Channel.SecretsEngine
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        EndPoint endpoint = channel switch
        {
            Channel.Ipc => new UnixDomainSocketEndPoint(agent.Socket),
            Channel.Driver => new UnixDomainSocketEndPoint(agent.SecretDriverSocket ?? throw new InvalidOperationException("this agent serves no secret driver")),
            Channel.SecretsEngine => new UnixDomainSocketEndPoint(agent.SecretsEngineSocket ?? throw new InvalidOperationException("this agent serves no Secrets Engine resolver")),
            _ => new IPEndPoint(IPAddress.Loopback, agent.Port),
        };
        await socket.ConnectAsync(endpoint, timeout.Token);
        var request = new StringBuilder()
            .Append($"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{IpcProtocol.VersionHeader}: {IpcProtocol.Version}\r\n")
            .Append(extraHeaders ?? string.Empty);
        if (body is not null)
        {
            request.Append($"Content-Type: {contentType}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
        }
        else
        {
            request.Append("\r\n");
        }

        await socket.SendAsync(Encoding.UTF8.GetBytes(request.ToString()), SocketFlags.None, timeout.Token);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        // /v1/events streams: its first bytes are enough.
        while (received.Length < 64 * 1024 && (read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, read);
            if (Encoding.UTF8.GetString(received.ToArray()).Contains(": connected", StringComparison.Ordinal))
            {
                break;
            }
        }

        var text = Encoding.UTF8.GetString(received.ToArray());
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var lines = (headerEnd < 0 ? text : text[..headerEnd]).Split("\r\n");
        var status = lines[0].Split(' ') is [_, var code, ..] && int.TryParse(code, out var parsed) ? parsed : 0;
        var headers = lines.Skip(1).Select(l => l.Split(": ", 2)).Where(p => p.Length == 2).GroupBy(p => p[0], StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.OrdinalIgnoreCase);
        return (status, headerEnd < 0 ? string.Empty : text[(headerEnd + 4)..], headers);
    }
}
