using System.Reflection;

namespace Dso.Cli.Commands.SystemService;

/// <summary>
/// Where `system install` puts things, under an optional root (packaging and tests install into a
/// staging directory): the systemd units, /etc/dso, /var/lib/dso.
/// </summary>
internal sealed record SystemLayout(string Root)
{
    public const string AgentUnit = "dso-agent.service";
    public const string MountUnit = "run-dso-secrets.mount";
    public const string Group = "dso";

    /// <summary>Where `system install` puts root-owned copies of the executables when the running ones are not root's alone.</summary>
    public const string LibraryDirectory = "/usr/local/lib/dso";

    /// <summary>The files that make up an installation, beside each other.</summary>
    public static readonly IReadOnlyList<string> Executables = ["docker-dso", "dso-agent", "dso-init", "libsodium.so"];

    public bool IsLive => Root == "/";

    public string UnitDirectory => At("/etc/systemd/system");

    public string ConfigDirectory => At("/etc/dso");

    public string StateDirectory => At("/var/lib/dso");

    public string At(string absolute) => IsLive ? absolute : Path.Combine(Root, absolute.TrimStart('/'));

    /// <summary>A file shipped in packaging/systemd, embedded in docker-dso.</summary>
    public static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"systemd/{name}")
            ?? throw new InvalidOperationException($"resource systemd/{name} is missing from docker-dso");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
