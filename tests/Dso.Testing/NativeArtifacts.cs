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

            var directory = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "deb");
            return (System.IO.Directory.Exists(directory) ? System.IO.Directory.GetFiles(directory, "docker-dso_*_amd64.deb") : [])
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
                ?? throw new InvalidOperationException($"no docker-dso_*_amd64.deb in {directory}: run scripts/build-deb.sh (scripts/test.sh does)");
        }
    }

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
