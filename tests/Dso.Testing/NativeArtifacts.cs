using System.Security.Cryptography;

namespace Dso.Testing;

/// <summary>
/// The NativeAOT executables tests need, published by scripts/build-native.sh --with-testapp into
/// artifacts/native (DSO_NATIVE_DIR overrides): the dso-init launcher and the test application.
/// </summary>
public static class NativeArtifacts
{
    public static string Directory { get; } = Environment.GetEnvironmentVariable("DSO_NATIVE_DIR") is { Length: > 0 } dir
        ? dir
        : Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "native");

    public static string Launcher => Require("dso-init");

    public static string TestApp => Require("dso-testapp");

    /// <summary>The Debian package scripts/build-deb.sh made (artifacts/deb; DSO_DEB overrides).</summary>
    public static string DebianPackage
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DSO_DEB") is { Length: > 0 } deb)
            {
                return deb;
            }

            string[] directories = [Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "deb"), Release];
            return directories.Where(System.IO.Directory.Exists).SelectMany(d => System.IO.Directory.GetFiles(d, "docker-dso_*_amd64.deb"))
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
                ?? throw new InvalidOperationException($"no docker-dso_*_amd64.deb in {string.Join(" or ", directories)}: run scripts/build-release.sh or scripts/build-deb.sh (scripts/test.sh does)");
        }
    }

    /// <summary>What scripts/build-release.sh made: the archive, install.sh, the package and SHA256SUMS (artifacts/release).</summary>
    public static string Release { get; } = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "release");

    /// <summary>A short hash of a file, so an image built from it is rebuilt when it changes.</summary>
    public static string ContentTag(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))[..12];

    private static string Require(string name)
    {
        var path = Path.Combine(Directory, name);
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing: run scripts/build-native.sh --with-testapp (scripts/test.sh does)");
    }
}
