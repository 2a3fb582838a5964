using System.Text.Json;
using Dso.Agent.Tests;
using Dso.Ipc;
using Dso.Testing;

namespace Dso.Swarm.Tests;

/// <summary>
/// An agent whose local vault is the stack's (one DSO_HOME), and a stack whose CLI talks to it;
/// with <c>secretDriver</c>, the agent serves the Swarm secret driver on that socket.
/// </summary>
internal sealed class AgentStack : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("dso-swarm-agent-");

    private AgentStack(string compose, string agentKeys, string? secretDriver)
    {
        Stack = new SwarmStack(compose);
        Agent = new AgentProcess(_dir, agentKeys: agentKeys, secretDriver: secretDriver);
        Stack.Project.Environment["DSO_HOME"] = Agent.Environment["DSO_HOME"];
        Stack.Project.Environment[IpcProtocol.SocketVariable] = Agent.Socket;
    }

    public SwarmStack Stack { get; }

    public AgentProcess Agent { get; }

    public static async Task<AgentStack> StartAsync(string compose, string token, string agentKeys, string? secretDriver = null)
    {
        var setup = new AgentStack(compose, agentKeys, secretDriver);
        try
        {
            await setup.Stack.Project.WithSecretsAsync(("shop/token", token));
            await setup.Agent.StartAsync();
            return setup;
        }
        catch
        {
            await setup.DisposeAsync();
            throw;
        }
    }

    public static JsonElement Service(JsonDocument status, string project, string service) =>
        status.RootElement.GetProperty("projects").EnumerateArray().Single(p => p.GetProperty("name").GetString() == project)
            .GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == service);

    public async Task<JsonDocument> StatusAsync() => JsonDocument.Parse((await Stack.Project.DsoOkAsync("status", "--json")).StandardOutput);

    /// <summary>Polls status (bounded) until the service has a rotation result other than unchanged.</summary>
    public async Task<JsonElement> WaitForRotationAsync(string service, TimeSpan limit)
    {
        var deadline = DateTimeOffset.UtcNow + limit;
        while (DateTimeOffset.UtcNow < deadline)
        {
            using var status = await StatusAsync();
            if (Service(status, Stack.Name, service).TryGetProperty("lastRotation", out var last) && last.ValueKind == JsonValueKind.Object
                && last.GetProperty("outcome").GetString() is "rotated" or "failed")
            {
                return last.Clone();
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"no rotation of {service} within {limit.TotalSeconds:0} s; agent output:\n{Agent.Output}");
    }

    public async ValueTask DisposeAsync()
    {
        await Stack.DisposeAsync();
        await Agent.DisposeAsync();
        _dir.Dispose();
    }
}
