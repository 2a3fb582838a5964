using System.Net.Http.Json;
using Dso.Ipc;

namespace Dso.Agent.Tests;

/// <summary>Registrations a test sends straight to the agent, as `docker dso up` would.</summary>
internal static class Registrations
{
    public static ProjectRegistration Project(string name, params (string Service, int Uid, (string Variable, string Reference)[] References)[] services) =>
        new(name, "/srv/" + name, ["/srv/" + name + "/compose.yaml"], [.. services.Select(s => new ServiceRegistration(
            s.Service, s.Uid, s.Uid, [.. s.References.Select((r, i) => new ReferenceRegistration(r.Variable, r.Reference, $"compose.yaml:{10 + i}"))]))]);

    public static Task<HttpResponseMessage> RegisterAsync(HttpClient ipc, ProjectRegistration registration) =>
        ipc.PostAsJsonAsync("/v1/projects", registration, IpcJson.Wire.ProjectRegistration, TestContext.Current.CancellationToken);
}
