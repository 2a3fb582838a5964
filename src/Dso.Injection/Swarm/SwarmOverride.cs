using System.Globalization;
using Dso.Injection.Planning;
using YamlDotNet.RepresentationModel;
using static Dso.Injection.Planning.OverrideWriter;

namespace Dso.Injection.Swarm;

/// <summary>
/// The stack file DSO adds after the user's files for `docker stack deploy` (which merges `-c`
/// files in order): per service, dso-init before the original entrypoint (bind-mounted read-only
/// from the same path on every node), each secret version mounted at its absolute target under
/// /run/secrets/dso with owner and mode, and DSO's service labels; at the top, every secret
/// version as external. Names, paths and labels only — never a value.
/// </summary>
internal static class SwarmOverride
{
    public static string Build(StackPlan plan, IReadOnlyList<SwarmServiceSecrets> material, string launcherPath)
    {
        var services = new YamlMappingNode();
        var declared = new YamlMappingNode();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in plan.Services)
        {
            var secrets = material.Single(s => s.Service == service.Service.Name);
            var (entrypoint, command) = OverrideBuilder.Launch(service);
            var node = new YamlMappingNode { { Key("entrypoint"), Sequence(entrypoint) } };
            if (command is not null)
            {
                node.Add(Key("command"), Sequence(command));
            }

            node.Add(Key("volumes"), new YamlSequenceNode(new YamlMappingNode
            {
                { Key("type"), Quoted("bind") },
                { Key("source"), Quoted(launcherPath) },
                { Key("target"), Quoted(OverrideBuilder.LauncherMountPath) },
                { Key("read_only"), new YamlScalarNode("true") },
            }));
            var mounts = new YamlSequenceNode();
            foreach (var mount in secrets.Mounts)
            {
                mounts.Add(new YamlMappingNode
                {
                    { Key("source"), Quoted(mount.SecretName) },
                    { Key("target"), Quoted(mount.Target) },
                    { Key("uid"), Quoted(mount.Uid) },
                    { Key("gid"), Quoted(mount.Gid) },
                    { Key("mode"), new YamlScalarNode(((int)mount.Mode).ToString(CultureInfo.InvariantCulture)) },
                });
                if (names.Add(mount.SecretName))
                {
                    declared.Add(Key(mount.SecretName), new YamlMappingNode
                    {
                        { Key("external"), new YamlScalarNode("true") },
                        { Key("name"), Quoted(mount.SecretName) },
                    });
                }
            }

            node.Add(Key("secrets"), mounts);
            if (OverrideBuilder.MappedEnvironment(service) is { Count: > 0 } mapped)
            {
                node.Add(Key("environment"), QuotedMap(mapped));
            }

            node.Add(Key("deploy"), new YamlMappingNode
            {
                {
                    Key("labels"), new YamlMappingNode
                    {
                        { Key(SwarmNames.ManagedLabel), Quoted("true") },
                        { Key(SwarmNames.StackLabel), Quoted(plan.Project.Name) },
                        { Key(SwarmNames.FingerprintLabel), Quoted(secrets.Fingerprint) },
                    }
                },
            });
            services.Add(Key(service.Service.Name), node);
        }

        var root = new YamlMappingNode();
        if (plan.Project.FileFormatVersion is { } version)
        {
            root.Add(Key("version"), Quoted(version));
        }

        root.Add(Key("services"), services);
        root.Add(Key("secrets"), declared);
        return Save(root);
    }
}
