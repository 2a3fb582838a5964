using System.Text.Json.Serialization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Dso.Cli.Vault;
using Dso.Injection.Engine;

namespace Dso.Cli.Commands.Agent;

/// <summary>
/// What `docker dso status` says when no agent runs (local mode, as the original project's quick
/// start runs it): that nothing rotates or restores secrets, where the vault is, and the containers
/// DSO started on this engine (found by their `dso.managed` label).
/// </summary>
internal sealed record LocalStatus(string Mode, string Socket, string Vault, bool VaultExists, string? Engine, IReadOnlyList<LocalContainer> Containers)
{
    public static async Task<LocalStatus> ReadAsync(CliContext context, string socket, CancellationToken cancellationToken)
    {
        var vault = new VaultAccess(context).Settings.VaultPath;
        var endpoint = EngineEndpoint.Resolve(context.GetEnvironmentVariable);
        try
        {
            using var client = new DockerClientBuilder().WithEndpoint(new Uri(endpoint.Host)).Build();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var list = await client.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { ["dso.managed=true"] = true } },
            }, timeout.Token);
            var containers = list
                .Select(c => new LocalContainer(
                    Label(c.Labels, "com.docker.compose.project") ?? Label(c.Labels, "dso.project") ?? "-",
                    Label(c.Labels, "com.docker.compose.service") ?? Label(c.Labels, "dso.service") ?? "-",
                    c.Names.FirstOrDefault()?.TrimStart('/') ?? c.ID[..12],
                    c.State))
                .OrderBy(c => c.Project, StringComparer.Ordinal).ThenBy(c => c.Service, StringComparer.Ordinal).ThenBy(c => c.Container, StringComparer.Ordinal)
                .ToList();
            return new LocalStatus("local", socket, vault, File.Exists(vault), endpoint.Host, containers);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new LocalStatus("local", socket, vault, File.Exists(vault), null, []);
        }
    }

    private static string? Label(IDictionary<string, string>? labels, string name) =>
        labels is not null && labels.TryGetValue(name, out var value) ? value : null;

    public void Write(TextWriter output)
    {
        output.WriteLine($"mode   local: no agent answers on {Socket}, so nothing rotates these secrets or restores them after a reboot");
        output.WriteLine($"       (run one: 'docker dso agent', or 'sudo docker dso system install' for a systemd service)");
        output.WriteLine($"vault  {Vault}{(VaultExists ? string.Empty : " (not created yet: 'docker dso init')")}");
        output.WriteLine(Engine is null ? "engine not reachable: the containers DSO started cannot be listed" : $"engine {Engine}");
        output.WriteLine();
        if (Containers.Count == 0)
        {
            output.WriteLine("no containers started by DSO on this engine ('docker dso up' starts some)");
        }
    }
}

/// <summary>One container DSO started, as local-mode status lists it.</summary>
internal sealed record LocalContainer(string Project, string Service, string Container, string State);

/// <summary>JSON of the local-mode status.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LocalStatus))]
internal sealed partial class LocalStatusJson : JsonSerializerContext;
