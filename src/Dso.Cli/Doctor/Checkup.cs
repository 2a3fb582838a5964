using Docker.DotNet;
using Dso.Cli.Agent;
using Dso.Configuration;
using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.Planning;
using Dso.Injection.Secrets;
using Dso.Ipc;
using Dso.Native;
using Dso.Vault;

namespace Dso.Cli.Doctor;

/// <summary>The checks of `docker dso doctor`, each independent: one failing never stops the others.</summary>
internal sealed partial class Checkup(CliContext context)
{
    private Func<string, string?> Variable => context.GetEnvironmentVariable;

    public async Task<IReadOnlyList<DoctorCheck>> RunAsync(CancellationToken cancellationToken)
    {
        var checks = new List<DoctorCheck>();
        LoadedConfig? config = null;
        checks.Add(Guard("config.valid", () =>
        {
            config = ConfigLoader.Load(context.ConfigPath, Variable, context.WorkingDirectory);
            return DoctorCheck.Pass("config.valid", config.Path is null ? "no dso.yaml found; defaults apply" : $"{config.Path} is valid");
        }, "fix the line the message names"));

        var endpoint = EngineEndpoint.Resolve(Variable);
        checks.Add(endpoint.IsLocal
            ? DoctorCheck.Pass("engine.local", $"{endpoint.Host} ({endpoint.Source})")
            : DoctorCheck.Fail("engine.local", $"the engine is remote: {endpoint.Host} ({endpoint.Source})", "run DSO on the engine's host, or unset DOCKER_HOST / 'docker context use default'"));
        checks.AddRange(await EngineChecksAsync(endpoint, cancellationToken));
        checks.Add(await GuardAsync("compose.available", async () =>
            DoctorCheck.Pass("compose.available", (await ComposeFrontEnd.DetectAsync(Variable, cancellationToken)).DisplayName), "apt-get install docker-compose (or install the compose v2 plugin)"));
        checks.Add(Guard("launcher.installed", () => DoctorCheck.Pass("launcher.installed", LauncherLocator.Find(Variable)), "run scripts/install.sh"));
        if (config?.Config.Proxy.Forwarding == "kernel")
        {
            checks.Add(KernelForwardingCheck());
        }

        var socket = Variable(IpcProtocol.SocketVariable) ?? config?.Config.Agent.Socket ?? "/run/dso/dso.sock";
        checks.AddRange(await AgentChecksAsync(socket, config?.Config.Agent.SocketGroup ?? "dso", config, cancellationToken));
        return checks;
    }

    private static async Task<IEnumerable<DoctorCheck>> EngineChecksAsync(EngineEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (!endpoint.IsLocal)
        {
            return [];
        }

        try
        {
            using var client = new DockerClientBuilder().WithEndpoint(new Uri(endpoint.Host)).Build();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var version = await client.System.GetVersionAsync(timeout.Token);
            var info = await client.System.GetSystemInfoAsync(timeout.Token);
            var api = Version.TryParse(version.APIVersion, out var parsed) ? parsed : new Version(0, 0);
            var skew = DateTimeOffset.TryParse(info.SystemTime, System.Globalization.CultureInfo.InvariantCulture, out var engineTime)
                ? (DateTimeOffset.UtcNow - engineTime).Duration()
                : (TimeSpan?)null;
            return
            [
                DoctorCheck.Pass("engine.reachable", $"Docker Engine {version.Version}"),
                api >= new Version(1, 41)
                    ? DoctorCheck.Pass("engine.api_version", $"API {version.APIVersion}")
                    : DoctorCheck.Warn("engine.api_version", $"API {version.APIVersion} is older than 1.41", "upgrade Docker Engine to 20.10 or later"),
                SwarmCheck(info),
                skew is null ? DoctorCheck.Warn("clock.skew", "the engine did not report its time", "check the host clock (timedatectl)")
                    : skew < TimeSpan.FromSeconds(30) ? DoctorCheck.Pass("clock.skew", $"{skew.Value.TotalSeconds:0.0} s from the engine's clock")
                    : DoctorCheck.Warn("clock.skew", $"{skew.Value.TotalSeconds:0} s from the engine's clock (webhook signatures allow 300 s)", "synchronise the clock (systemd-timesyncd, chrony)"),
            ];
        }
        catch (Exception e) when (e is HttpRequestException or DockerApiException or OperationCanceledException or IOException)
        {
            return [DoctorCheck.Fail("engine.reachable", $"no answer from {endpoint.Host}: {e.Message}", "start the engine (systemctl start docker, or dockerd)")];
        }
    }

    /// <summary>Whether `docker dso stack deploy` can run here: a swarm manager, or no swarm at all (then `up` serves this host).</summary>
    private static DoctorCheck SwarmCheck(Docker.DotNet.Models.SystemInfoResponse info)
    {
        var swarm = info.Swarm;
        return (swarm?.LocalNodeState, swarm?.ControlAvailable) switch
        {
            (null or "" or "inactive", _) => DoctorCheck.Pass("engine.swarm", "not in a swarm: docker dso up serves this host (docker dso stack deploy needs a swarm manager)"),
            ("active", true) => DoctorCheck.Pass("engine.swarm", $"swarm manager ({swarm!.Managers} manager(s), {swarm.Nodes} node(s)): docker dso stack deploy works here"),
            ("active", _) => DoctorCheck.Warn("engine.swarm", "swarm worker: stack deploy and the agent's Swarm rotations need a manager", "run docker dso stack deploy (and the agent that watches stacks) on a manager; docker node ls lists them"),
            (var state, _) => DoctorCheck.Warn("engine.swarm", $"swarm state {state}{(string.IsNullOrEmpty(swarm!.Error) ? string.Empty : ": " + DsoException.OneLine(swarm.Error))}", "docker info shows the swarm's state; docker swarm leave or docker swarm init/join settles it"),
        };
    }

    /// <summary>The agent's socket admits root and the group only: 0660, the group's.</summary>
    private static DoctorCheck SocketCheck(string socket, string group)
    {
        var owner = UnixFiles.Ownership(socket);
        return owner.Mode == (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite) && owner.Gid == Dso.Native.UnixGroups.LookUp(group)
            ? DoctorCheck.Pass("agent.socket", $"{socket} is 0660 root:{group}")
            : DoctorCheck.Warn("agent.socket", $"{socket} is {Convert.ToString((int)owner.Mode, 8)} owned by {owner.Uid}:{owner.Gid}", $"create group {group} (docker dso system install) and restart the agent");
    }

    private async Task<IEnumerable<DoctorCheck>> AgentChecksAsync(string socket, string group, LoadedConfig? config, CancellationToken cancellationToken)
    {
        var checks = new List<DoctorCheck>();
        AgentClient? agent = null;
        try
        {
            agent = await AgentClient.TryConnectAsync(socket, cancellationToken);
        }
        catch (DsoException e)
        {
            // An agent listens but its socket refused this user: not local mode. What the socket's metadata says is still worth checking.
            checks.Add(DoctorCheck.Fail("agent.membership", e.Message, $"add yourself to the group: sudo usermod -aG {group} $USER (then log in again)"));
            checks.Add(Guard("agent.socket", () => SocketCheck(socket, group), "check the socket with ls -l"));
            return checks;
        }

        using (agent)
        {
            if (agent is null)
            {
                checks.Add(DoctorCheck.Warn("agent.running", $"no agent answers on {socket}: local mode (no rotation, no restore after reboot)", "docker dso system install, then systemctl start dso-agent"));
                checks.Add(Guard("secrets_dir.ram", () => DoctorCheck.Pass("secrets_dir.ram", $"{SecretStore.Locate(Variable).Root} is on tmpfs/ramfs"), "point DSO_SECRETS_DIR at a tmpfs"));
                checks.Add(LocalVaultCheck(config));
                return checks;
            }

            checks.Add(DoctorCheck.Pass("agent.running", $"DSO {agent.Handshake.AgentVersion} on {socket}"));
            checks.Add(DoctorCheck.Pass("agent.membership", UnixFiles.EffectiveUserId == 0 ? "root" : $"member of group {group}"));
            checks.Add(SocketCheck(socket, group));
            var status = await agent.GetAsync("/v1/status", IpcJson.Wire.StatusReport, cancellationToken);
            checks.Add(DoctorCheck.Pass("secrets_dir.ram", $"the agent keeps secrets in {status.Agent.SecretsDirectory} (checked RAM-backed at start-up)"));
            foreach (var provider in status.Providers)
            {
                checks.Add(provider.State == "error" || provider.Circuit != "closed"
                    ? DoctorCheck.Fail($"provider.{provider.Name}", $"{provider.LastError ?? "failing"} (circuit {provider.Circuit})", "check the provider's credentials and reachability (docker dso status); cached values are served meanwhile")
                    : provider.Insecure ? DoctorCheck.Warn($"provider.{provider.Name}", $"{provider.Type}: values sit unencrypted on disk", "use it for development only")
                    : DoctorCheck.Pass($"provider.{provider.Name}", $"{provider.Type}: {provider.State}"));
            }

            checks.Add(Guard("state_dir.disk", () =>
            {
                var free = new DriveInfo(status.Agent.StateDirectory).AvailableFreeSpace;
                return free > 100L * 1024 * 1024
                    ? DoctorCheck.Pass("state_dir.disk", $"{free / (1024 * 1024)} MiB free for {status.Agent.StateDirectory}")
                    : DoctorCheck.Warn("state_dir.disk", $"only {free / (1024 * 1024)} MiB free for {status.Agent.StateDirectory}", "free disk space");
            }, "check the state directory"));
            return checks;
        }
    }

    private DoctorCheck LocalVaultCheck(LoadedConfig? config)
    {
        var local = config?.Config.Providers.GetValueOrDefault("local");
        var settings = VaultUnlocker.WithPaths(VaultSettings.FromEnvironment(Variable), local?.VaultFile, local?.MasterKeyFile, Variable("HOME"), context.WorkingDirectory);
        if (!File.Exists(settings.VaultPath))
        {
            return DoctorCheck.Warn("provider.local", $"no vault at {settings.VaultPath}", "docker dso init");
        }

        return (File.GetUnixFileMode(settings.VaultPath) & UnixFiles.GroupOrOther) != 0
            ? DoctorCheck.Fail("provider.local", $"{settings.VaultPath} is readable by group or others", $"chmod 600 {settings.VaultPath}")
            : DoctorCheck.Pass("provider.local", $"vault {settings.VaultPath}");
    }

    private static DoctorCheck Guard(string id, Func<DoctorCheck> check, string fix)
    {
        try
        {
            return check();
        }
        catch (DsoException e)
        {
            return DoctorCheck.Fail(id, e.Message, fix);
        }
    }

    private static async Task<DoctorCheck> GuardAsync(string id, Func<Task<DoctorCheck>> check, string fix)
    {
        try
        {
            return await check();
        }
        catch (DsoException e)
        {
            return DoctorCheck.Fail(id, e.Message, fix);
        }
    }
}
