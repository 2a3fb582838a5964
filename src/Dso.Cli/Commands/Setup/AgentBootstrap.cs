using Dso.Cli.Commands.SystemService;
using Dso.Configuration;
using Dso.Native;

namespace Dso.Cli.Commands.Setup;

/// <summary>
/// Agent mode on this host (`bootstrap agent`, `setup --mode agent`): `system install`, then the
/// provider the agent reads — named with --provider, else detected from the environment (AWS_REGION,
/// VAULT_ADDR, AZURE_KEYVAULT_URL, HUAWEICLOUD_REGION), else asked, else the local vault — written
/// into /etc/dso/dso.yaml while that file still holds no provider, and a root-only
/// /etc/dso/agent.env for the credentials the provider reads from the environment (named, never
/// filled in: DSO writes no credential). The agent restarts when its configuration changed.
/// </summary>
internal sealed class AgentBootstrap(CliContext context)
{
    private const string PackageUnit = "/lib/systemd/system/" + SystemLayout.AgentUnit;

    public static readonly IReadOnlyList<string> ProviderTypes = ["local", "aws", "vault", "azure", "huawei"];

    private static readonly (string Type, string Variable)[] Detection =
    [
        ("vault", "VAULT_ADDR"), ("aws", "AWS_REGION"), ("aws", "AWS_DEFAULT_REGION"), ("azure", "AZURE_KEYVAULT_URL"), ("huawei", "HUAWEICLOUD_REGION"),
    ];

    public async Task<int> RunAsync(string? provider, bool interactive, CancellationToken cancellationToken)
    {
        if (UnixFiles.EffectiveUserId != 0)
        {
            throw new DsoException("agent mode installs a system service: run it as root (sudo docker dso bootstrap agent)");
        }

        string? because = "--provider";
        var type = provider ?? Detect(out because);
        if (provider is null && interactive)
        {
            var answer = context.ReadLine($"provider ({string.Join(", ", ProviderTypes)}) [{type}]: ")?.Trim();
            if (!string.IsNullOrEmpty(answer))
            {
                type = answer;
                because = "your answer";
            }
        }

        if (!ProviderTypes.Contains(type, StringComparer.Ordinal))
        {
            throw new UsageException($"provider '{type}': not a provider this command configures; use one of {string.Join(", ", ProviderTypes)} (plugins are configured in /etc/dso/dso.yaml by hand)");
        }

        var block = ProviderBlock(type, interactive);
        var layout = new SystemLayout("/");
        if (File.Exists(PackageUnit) && Directory.Exists(layout.ConfigDirectory))
        {
            // The package installed the units, the group and /etc/dso: its unit stays the one that runs (upgrades replace it).
            context.Out.WriteLine($"kept:      {PackageUnit} (the dso package's)");
            if (Systemd.IsRunning(context))
            {
                await Systemd.RunAsync(["enable", "--now", SystemLayout.MountUnit, SystemLayout.AgentUnit], cancellationToken);
            }
        }
        else if (await new SystemInstaller(context).InstallAsync(layout, cancellationToken) is var result && result != ExitCodes.Success)
        {
            return result;
        }

        var changed = WriteProvider(Path.Combine(layout.ConfigDirectory, "dso.yaml"), type, block, because);
        WriteEnvironmentFile(Path.Combine(layout.ConfigDirectory, "agent.env"), type);
        if (changed && Systemd.IsRunning(context))
        {
            await Systemd.RunAsync(["restart", SystemLayout.AgentUnit], cancellationToken);
            context.Out.WriteLine($"restarted: {SystemLayout.AgentUnit} (it reads the new provider)");
        }

        context.Out.WriteLine(type == "local"
            ? "next: sudo DSO_HOME=/var/lib/dso docker dso init (the agent's vault), then docker dso doctor"
            : $"next: put the provider's credentials in /etc/dso/agent.env if the host does not supply them, sudo docker dso system restart, then docker dso doctor");
        return ExitCodes.Success;
    }

    private string Detect(out string? because)
    {
        foreach (var (type, variable) in Detection)
        {
            if (context.GetEnvironmentVariable(variable) is not null)
            {
                because = variable;
                return type;
            }
        }

        because = null;
        return "local";
    }

    /// <summary>The provider's entry under `providers:`; null for the local vault (the agent reads /var/lib/dso/vault.dso without one).</summary>
    private string? ProviderBlock(string type, bool interactive)
    {
        string Required(string what, params string[] variables)
        {
            var value = variables.Select(context.GetEnvironmentVariable).FirstOrDefault(v => v is not null)
                ?? (interactive ? context.ReadLine($"{what}: ")?.Trim() : null);
            return string.IsNullOrEmpty(value)
                ? throw new UsageException($"--provider {type} needs its {what}: set {variables[0]} (sudo {variables[0]}=… docker dso bootstrap agent --provider {type})")
                : Quote(value);
        }

        return type switch
        {
            "aws" => $"  aws:\n    type: aws\n    region: {Required("region", "AWS_REGION", "AWS_DEFAULT_REGION")}\n    auth:\n      method: iam_role\n",
            "vault" => $"  vault:\n    type: vault\n    endpoint: {Required("server address", "VAULT_ADDR")}\n",
            "azure" => $"  azure:\n    type: azure\n    endpoint: {Required("vault URL", "AZURE_KEYVAULT_URL")}\n    auth:\n      method: managed_identity\n",
            "huawei" => $"  huawei:\n    type: huawei\n    region: {Required("region", "HUAWEICLOUD_REGION", "HUAWEICLOUD_SDK_REGION")}\n"
                + (context.GetEnvironmentVariable("HUAWEICLOUD_SDK_PROJECT_ID") is { } project ? $"    options:\n      project_id: {Quote(project)}\n" : string.Empty),
            _ => null,
        };
    }

    /// <summary>A value as one YAML scalar whatever it holds (a URL's ':' or '#' included).</summary>
    private static string Quote(string value) =>
        value.Any(c => char.IsControl(c)) ? throw new UsageException("a provider setting holds a control character; give it without one")
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private bool WriteProvider(string path, string type, string? block, string? because)
    {
        var why = because is null ? "no provider named or detected" : $"from {because}";
        if (block is null)
        {
            context.Out.WriteLine($"provider:  local vault /var/lib/dso/vault.dso ({why})");
            return false;
        }

        var text = File.ReadAllText(path);
        if (text.Split('\n').Any(line => line.StartsWith("providers:", StringComparison.Ordinal) || line.StartsWith("provider:", StringComparison.Ordinal)))
        {
            context.Out.WriteLine($"kept:      {path} already names its providers; to use {type}, add under providers:");
            context.Out.Write(block);
            return false;
        }

        var updated = text.TrimEnd('\n') + $"\n\n# Added by docker dso bootstrap agent ({why}); docs/providers.md lists every setting.\nproviders:\n{block}";
        ConfigLoader.Parse(path, updated, context.GetEnvironmentVariable);
        // The package gives dso.yaml 0640 root:dso so members can read it; the new file keeps that.
        var kept = UnixFiles.Ownership(path);
        AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(updated), kept.Mode, durable: true, (kept.Uid, kept.Gid));
        context.Out.WriteLine($"provider:  {type} written to {path} ({why})");
        return true;
    }

    private void WriteEnvironmentFile(string path, string type)
    {
        if (File.Exists(path))
        {
            context.Out.WriteLine($"kept:      {path} (yours)");
            return;
        }

        var names = type switch
        {
            "vault" => "VAULT_TOKEN (or auth.method approle in dso.yaml)",
            "aws" => "nothing on EC2 with an instance role; else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY",
            "azure" => "nothing with a managed identity; else AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET",
            "huawei" => "HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID",
            _ => "nothing for the local vault (its key file is /var/lib/dso/vault.key)",
        };
        var content = $"# Environment of dso-agent (EnvironmentFile of {SystemLayout.AgentUnit}): KEY=value lines, read by systemd as root.\n# The {type} provider reads: {names}.\n";
        AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(content), UnixFileMode.UserRead | UnixFileMode.UserWrite, durable: true);
        UnixFiles.Chown(path, 0, 0);
        context.Out.WriteLine($"created:   {path} (0600 root: provider credentials go here, never in dso.yaml)");
    }
}
