using System.Globalization;
using Dso.Injection.Compose;
using Dso.Yaml;

namespace Dso.Injection.Planning;

/// <summary>
/// A service's `x-dso:` block. Known keys: `uid`, `gid` (owner of its secret files) and
/// `strategy` (how rotation updates it). Any other key is an error, so a typo is not ignored.
/// </summary>
internal sealed record DsoExtension(int? Uid, int? Gid, string? Strategy)
{
    private static readonly string[] Known = ["uid", "gid", "strategy"];

    public static DsoExtension Read(ComposeService service)
    {
        if (service.Extension is not { } map)
        {
            return new DsoExtension(null, null, null);
        }

        int? uid = null, gid = null;
        string? strategy = null;
        foreach (var (key, node) in map.Entries)
        {
            var value = (node as YScalar)?.Value;
            switch (key)
            {
                case "uid":
                case "gid":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    {
                        throw new DsoException($"{node.Where}: x-dso.{key} of service {service.Name} must be a number");
                    }

                    if (key == "uid")
                    {
                        uid = id;
                    }
                    else
                    {
                        gid = id;
                    }

                    break;
                case "strategy":
                    strategy = value;
                    break;
                default:
                    throw new DsoException($"{node.Where}: x-dso of service {service.Name} has an unknown key '{key}' (known: {string.Join(", ", Known)})");
            }
        }

        return new DsoExtension(uid, gid, strategy);
    }
}
