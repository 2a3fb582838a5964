using System.Globalization;
using Dso.Injection.References;
using Dso.Injection.Secrets;
using Dso.Launching;
using Dso.Secrets;

namespace Dso.Injection.Planning;

/// <summary>
/// The files one service's secrets directory holds: `.dso-env/N` for each `dso://` variable (read
/// by dso-init), the `dsofile://` files under their names with their modes and owners, and the
/// manifest that ties variables to them. All values come from <see cref="ResolvedValues"/>.
/// </summary>
internal static class ServiceMaterial
{
    public const string EnvDirectory = ".dso-env";
    private static readonly UnixFileMode ReadOnlyOwner = UnixFileMode.UserRead;
    private static readonly UnixFileMode ReadableByAll = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static IReadOnlyList<SecretFile> Build(IReadOnlyList<ServiceReference> references, ResolvedValues values, ServiceOwner owner)
    {
        var files = new List<SecretFile>();
        var manifest = new List<LauncherManifest.Entry>();
        var index = 0;
        foreach (var reference in references.OrderBy(r => r.Variable, StringComparer.Ordinal))
        {
            var value = values[reference.Reference].Reveal().ToArray();
            if (reference.Reference.Kind == ReferenceKind.Env)
            {
                var path = $"{EnvDirectory}/{index.ToString(CultureInfo.InvariantCulture)}";
                index++;
                files.Add(new SecretFile(path, value, ReadOnlyOwner, owner.Uid, owner.Gid));
                manifest.Add(new LauncherManifest.Entry(LauncherManifest.EntryKind.Env, reference.Variable, reference.Text, path));
            }
            else
            {
                var options = reference.Reference.File;
                var name = reference.Reference.FileName;
                if (files.All(f => f.RelativePath != name))
                {
                    files.Add(new SecretFile(name, value, (UnixFileMode)(options.Mode ?? (int)ReadOnlyOwner), options.Uid ?? owner.Uid, options.Gid ?? owner.Gid));
                }
                else
                {
                    System.Security.Cryptography.CryptographicOperations.ZeroMemory(value);
                }

                manifest.Add(new LauncherManifest.Entry(LauncherManifest.EntryKind.File, reference.Variable, reference.Text, name));
            }
        }

        files.Add(new SecretFile(LauncherManifest.FileName, System.Text.Encoding.UTF8.GetBytes(LauncherManifest.Write(manifest)), ReadableByAll, -1, -1));
        return files;
    }
}
