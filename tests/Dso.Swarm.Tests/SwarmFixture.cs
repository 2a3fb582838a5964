using Dso.Testing;

[assembly: AssemblyFixture(typeof(Dso.Swarm.Tests.SwarmFixture))]

namespace Dso.Swarm.Tests;

/// <summary>
/// The real engine as a one-node swarm: initialised on 127.0.0.1 when it is not in one, and left
/// (`docker swarm leave --force`) at the end when this fixture made it, so later tests see a plain engine.
/// </summary>
public sealed class SwarmFixture : IAsyncLifetime
{
    private readonly EngineFixture _engine = new();
    private bool _initialised;

    public async ValueTask InitializeAsync()
    {
        await _engine.RequireAsync();
        var state = await EngineFixture.DockerOkAsync("info", "--format", "{{.Swarm.LocalNodeState}}");
        if (state != "active")
        {
            await EngineFixture.DockerOkAsync("swarm", "init", "--advertise-addr", "127.0.0.1");
            _initialised = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_initialised)
        {
            await EngineFixture.DockerAsync("swarm", "leave", "--force");
        }

        await _engine.DisposeAsync();
    }
}
