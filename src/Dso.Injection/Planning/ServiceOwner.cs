using System.Globalization;
using Dso.Injection.Compose;

namespace Dso.Injection.Planning;

/// <summary>
/// Who a service's secret files belong to unless a reference says otherwise: `x-dso.uid`/`gid`,
/// else the service's numeric `user:`, else the image's numeric USER, else root. A non-numeric user
/// (a name) cannot be resolved without reading the image's /etc/passwd, so DSO says so.
/// </summary>
internal sealed record ServiceOwner(int Uid, int Gid, string? Warning)
{
    public static ServiceOwner Resolve(ComposeService service, string? imageUser)
    {
        var extension = DsoExtension.Read(service);
        if (extension.Uid is { } uid)
        {
            return new ServiceOwner(uid, extension.Gid ?? uid, null);
        }

        var user = string.IsNullOrEmpty(service.User) ? imageUser : service.User;
        if (string.IsNullOrEmpty(user))
        {
            return new ServiceOwner(0, extension.Gid ?? 0, null);
        }

        var parts = user.Split(':', 2);
        if (int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var numeric))
        {
            var gid = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : numeric;
            return new ServiceOwner(numeric, extension.Gid ?? gid, null);
        }

        if (parts[0] == "root")
        {
            return new ServiceOwner(0, 0, null);
        }

        return new ServiceOwner(0, extension.Gid ?? 0,
            $"service {service.Name} runs as user '{user}', a name DSO cannot map to a uid: its secret files are owned by root with mode 0400, which that user cannot read. Set x-dso: {{uid: N}} on the service or ?uid=N on the references");
    }
}
