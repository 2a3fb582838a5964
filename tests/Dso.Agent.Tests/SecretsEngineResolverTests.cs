using System.Net.Http.Json;
using System.Text.Json;
using Dso.Ipc;
using Dso.Native;
using Dso.Processes;
using Dso.Testing;

namespace Dso.Agent.Tests;

/// <summary>
/// The agent as a Docker Secrets Engine resolver (agent.secrets_engine): the official Connect
/// client for Node (tests/clients/verify-secrets-engine.mjs, types built from proto/ by buf) asks
/// resolver.v1.ResolverService/GetSecrets over the agent's socket, in both codecs, as root, as a
/// member of the socket group and as a user outside it.
/// </summary>
public sealed class SecretsEngineResolverTests : IAsyncLifetime
{
    private SocketUsers _users = null!;

    private string Group => _users.Group;

    private string Outsider => _users.Outsider;

    private string Member => _users.Member;

    private static string Clients => Path.Combine(TestEnvironment.RepositoryRoot, "tests", "clients");

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(Path.Combine(Clients, "gen", "resolver", "v1", "resolver_pb.js")), "run: npm ci --prefix tests/clients && npm run gen --prefix tests/clients (scripts/test.sh does)");
        _users = await SocketUsers.CreateAsync("dsoe");
    }

    public ValueTask DisposeAsync() => _users.DisposeAsync();

    [Fact]
    public async Task OfficialConnectClient_GetsIdsAndPatterns_OnlyWhatTheAgentServes_AndOutsidersAreRefused()
    {
        using var dir = new TempDirectory("dso-agent-");
        var files = new FileSecrets(dir);
        var password = ComposeProjectUnderTest.Canary();
        var token = ComposeProjectUnderTest.Canary();
        files.Write(new()
        {
            ["prod/db/password"] = password,
            ["prod/db/user"] = "app",
            ["api-token"] = token,
            ["docker/unlisted"] = "not served by pattern",
        });
        var socket = dir.Combine("run", "se.sock");
        await using var agent = new AgentProcess(
            dir,
            files.Yaml + """
                realms:
                  "docker/db/**": {provider: files, path: prod/db}
                  "docker/api/token": {path: api-token}
                """,
            group: Group,
            secretsEngine: socket);
        await agent.StartAsync();
        var owner = UnixFiles.Ownership(socket);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, owner.Mode);
        Assert.Equal(PeerAuthorizerGroup(), owner.Gid);

        // A project registered with se:// references: its ids are the ones a pattern may list.
        using (var ipc = agent.Ipc())
        {
            var project = new ProjectRegistration("shop", "/srv/shop", ["/srv/shop/compose.yaml"], [new ServiceRegistration("api", 0, 0, [
                new ReferenceRegistration("DB_PASSWORD", "dso://files:prod/db/password", "compose.yaml:8", SecretsEngineId: "docker/db/password"),
                new ReferenceRegistration("DB_USER", "dso://files:prod/db/user", "compose.yaml:9", SecretsEngineId: "docker/db/user"),

                // Mapped by another dso.yaml than the agent's (which maps it to dso://docker/other): served by exact id only, as the agent maps it.
                new ReferenceRegistration("OTHER", "dso://files:api-token", "compose.yaml:10", SecretsEngineId: "docker/other"),
            ])]);
            using var registered = await ipc.PostAsJsonAsync("/v1/projects", project, IpcJson.Wire.ProjectRegistration, TestContext.Current.CancellationToken);
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        // An exact id, in both codecs: the value, the provider, and the reference it was resolved as.
        foreach (var format in new[] { "binary", "json" })
        {
            var exact = await AskAsync(socket, "docker/db/password", format);
            Assert.True(exact.GetProperty("ok").GetBoolean(), exact.ToString());
            var envelope = Assert.Single(exact.GetProperty("envelopes").EnumerateArray());
            Assert.Equal("docker/db/password", envelope.GetProperty("id").GetString());
            Assert.Equal(password, envelope.GetProperty("value").GetString());
            Assert.Equal("files", envelope.GetProperty("provider").GetString());
            Assert.Equal("dso://files:prod/db/password", envelope.GetProperty("metadata").GetProperty("dso.reference").GetString());
            Assert.True(DateTimeOffset.UtcNow - DateTimeOffset.Parse(envelope.GetProperty("resolvedAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture) < TimeSpan.FromMinutes(1));
        }

        // A realm's exact id with its own path, through the default provider.
        var api = await AskAsync(socket, "docker/api/token");
        Assert.Equal(token, Assert.Single(api.GetProperty("envelopes").EnumerateArray()).GetProperty("value").GetString());

        // Patterns list only what the agent serves: the registered ids and the realms' exact ids,
        // never what a provider or a realm's wildcard could reach (docker/unlisted).
        var all = await AskAsync(socket, "docker/**");
        Assert.Equal(["docker/api/token", "docker/db/password", "docker/db/user"], all.GetProperty("envelopes").EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToArray());
        var one = await AskAsync(socket, "docker/*/user", "json");
        Assert.Equal("app", Assert.Single(one.GetProperty("envelopes").EnumerateArray()).GetProperty("value").GetString());

        // Unknown ids and patterns that match nothing: not_found; a malformed pattern: invalid_argument.
        var unknown = await AskAsync(socket, "docker/db/missing");
        Assert.Equal("not_found", unknown.GetProperty("code").GetString());
        Assert.Contains("prod/db/missing", unknown.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("not_found", (await AskAsync(socket, "other/**")).GetProperty("code").GetString());
        Assert.Equal("invalid_argument", (await AskAsync(socket, "docker/db*")).GetProperty("code").GetString());

        // A provider that fails is unavailable (retry), never not_found (absent); cached values are still served.
        files.WriteRaw("not json");
        var broken = await AskAsync(socket, "docker/db/other");
        Assert.Equal("unavailable", broken.GetProperty("code").GetString());
        Assert.Contains("se://docker/db/other (dso://files:prod/db/other)", broken.GetProperty("message").GetString(), StringComparison.Ordinal);

        // A member of the group is served; a user outside it cannot open the socket, and with the
        // socket loosened by mistake is refused by the per-connection check (permission_denied).
        var member = await AskAsync(socket, "docker/db/password", user: Member);
        Assert.Equal(password, Assert.Single(member.GetProperty("envelopes").EnumerateArray()).GetProperty("value").GetString());
        var closed = await AskAsync(socket, "docker/db/password", user: Outsider);
        Assert.False(closed.GetProperty("ok").GetBoolean());
        Assert.DoesNotContain(password, closed.ToString(), StringComparison.Ordinal);
        File.SetUnixFileMode(socket, (UnixFileMode)Convert.ToInt32("666", 8));
        var refused = await AskAsync(socket, "docker/db/password", user: Outsider);
        Assert.Equal("permission_denied", refused.GetProperty("code").GetString());
        Assert.Contains($"neither root nor a member of group {Group}", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(password, refused.ToString(), StringComparison.Ordinal);

        // Every answer is audited with the ids, never a value; the metric counts each result.
        var audit = await File.ReadAllTextAsync(agent.AuditLog, TestContext.Current.CancellationToken);
        Assert.Contains("\"action\":\"secrets-engine.get\"", audit, StringComparison.Ordinal);
        Assert.Contains("served docker/api/token, docker/db/password, docker/db/user", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(password, audit, StringComparison.Ordinal);
        Assert.DoesNotContain(token, audit, StringComparison.Ordinal);
        Assert.DoesNotContain(password, agent.Output, StringComparison.Ordinal);
        var metrics = await agent.MetricsAsync();
        Assert.Equal(6, AgentProcess.Metric(metrics, "dso_secrets_engine_requests_total{result=\"served\"}"));
        Assert.Equal(1, AgentProcess.Metric(metrics, "dso_secrets_engine_requests_total{result=\"invalid\"}"));
        Assert.Equal(2, AgentProcess.Metric(metrics, "dso_secrets_engine_requests_total{result=\"not_found\"}"));
        Assert.Equal(1, AgentProcess.Metric(metrics, "dso_secrets_engine_requests_total{result=\"denied\"}"));
        Assert.Equal(1, AgentProcess.Metric(metrics, "dso_secrets_engine_requests_total{result=\"failed\"}"));
        Figures.Record("G10", "Secrets Engine resolver over the agent's socket, official Connect client (binary and JSON): exact ids, patterns, unknown, outsider", $"{AgentProcess.Metric(metrics, "dso_secrets_engine_requests_total{result=\"served\"}")} served, 2 not_found, 1 invalid_argument, 1 unavailable (provider broken), outsider refused");
    }

    [Fact]
    public async Task Off_ByDefault_NoSocketIsMade()
    {
        using var dir = new TempDirectory("dso-agent-");
        await using var agent = new AgentProcess(dir);
        await agent.StartAsync();
        Assert.Equal([agent.Socket], Directory.GetFileSystemEntries(dir.Combine("run")));
        Assert.DoesNotContain("Secrets Engine", agent.Output, StringComparison.Ordinal);
    }

    private uint? PeerAuthorizerGroup() => Dso.Agent.Ipc.PeerAuthorizer.LookUpGroup(Group);

    /// <summary>Runs the Node client (as root, or as <paramref name="user"/> through setpriv) and parses its one JSON line.</summary>
    private static async Task<JsonElement> AskAsync(string socket, string pattern, string format = "binary", string? user = null)
    {
        string[] node = ["node", Path.Combine(Clients, "verify-secrets-engine.mjs"), socket, pattern, format];
        var run = user is null
            ? await ChildProcess.RunAsync(node[0], node[1..], new ChildProcessOptions { Timeout = TimeSpan.FromSeconds(60) }, TestContext.Current.CancellationToken)
            : await ChildProcess.RunAsync("setpriv", SocketUsers.Setpriv(user, node), new ChildProcessOptions { Timeout = TimeSpan.FromSeconds(60) }, TestContext.Current.CancellationToken);
        Assert.True(run.Succeeded, $"node client exited {run.ExitCode}: {run.StandardError}");
        return JsonDocument.Parse(run.StandardOutput.Trim()).RootElement.Clone();
    }
}
