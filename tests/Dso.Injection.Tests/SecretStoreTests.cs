using Dso.Injection.Secrets;
using Dso.Native;
using Dso.Testing;

namespace Dso.Injection.Tests;

public sealed class SecretStoreTests : IDisposable
{
    private readonly string _root = $"/dev/shm/dso-store-test-{Guid.NewGuid():N}";

    [Fact]
    public void Open_OnTmpfs_CreatesAnOwnerOnlyRoot()
    {
        var store = SecretStore.Open(_root, "test");

        Assert.Equal(UnixFiles.OwnerOnlyDirectory, File.GetUnixFileMode(store.Root));
        Assert.True(UnixFiles.IsRamBacked(store.Root));
    }

    [Fact]
    public void Open_OnADiskDirectory_IsRefusedAndCreatesNothing()
    {
        using var disk = new TempDirectory();
        var target = disk.Combine("secrets");

        var error = Assert.Throws<DsoException>(() => SecretStore.Open(target, "DSO_SECRETS_DIR=" + target));

        Assert.Contains("is on a disk file system", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void Locate_UsesDsoSecretsDir_AndRefusesItOnDisk()
    {
        using var disk = new TempDirectory();

        Assert.Equal(_root, SecretStore.Locate(name => name == SecretStore.SecretsDirectoryVariable ? _root : null).Root);
        Assert.Throws<DsoException>(() => SecretStore.Locate(name => name == SecretStore.SecretsDirectoryVariable ? disk.Path : null));
    }

    [Fact]
    public void Locate_WithoutConfiguration_FallsBackToSharedMemoryForThisUser()
    {
        // Root's own RAM directory is on disk here (as /run is on these machines), whatever ran on the host before.
        using var disk = new TempDirectory();
        Directory.CreateDirectory(_root);

        var store = SecretStore.Locate(_ => null, new StoreLocations(disk.Combine("run", "dso", "secrets"), _root));

        Assert.Equal(Path.Combine(_root, $"dso-{UnixFiles.EffectiveUserId}"), store.Root);
        Assert.Equal(UnixFiles.OwnerOnlyDirectory, File.GetUnixFileMode(store.Root));
    }

    [Fact]
    public void Locate_WhenAnotherUserHoldsOurSharedMemoryName_UsesADirectoryOfOurOwn_AndFindsItAgain()
    {
        using var disk = new TempDirectory();
        var locations = new StoreLocations(disk.Combine("run"), _root);
        var uid = UnixFiles.EffectiveUserId;
        Directory.CreateDirectory(_root);
        // Another local user got there first: a directory of theirs under our name, and one of theirs
        // under the fallback pattern too (a link would be the same: its name is never followed).
        var squatted = Directory.CreateDirectory(Path.Combine(_root, $"dso-{uid}")).FullName;
        UnixFiles.Chown(squatted, 4321, 4321);
        var decoy = Directory.CreateDirectory(Path.Combine(_root, $"dso-{uid}-000000000000")).FullName;
        UnixFiles.Chown(decoy, 4321, 4321);
        File.SetUnixFileMode(decoy, (UnixFileMode)Convert.ToInt32("777", 8));

        var first = SecretStore.Locate(_ => null, locations);
        var second = SecretStore.Locate(_ => null, locations);

        Assert.NotEqual(squatted, first.Root);
        Assert.NotEqual(decoy, first.Root);
        Assert.StartsWith(Path.Combine(_root, $"dso-{uid}-"), first.Root, StringComparison.Ordinal);
        Assert.Equal(first.Root, second.Root);
        var owner = UnixFiles.Ownership(first.Root);
        Assert.Equal((uid, UnixFiles.OwnerOnlyDirectory, false), (owner.Uid, owner.Mode, owner.IsSymlink));
    }

    [Fact]
    public void Locate_NeverFollowsALinkPlantedUnderOurSharedMemoryName()
    {
        using var disk = new TempDirectory();
        Directory.CreateDirectory(_root);
        var attacker = Directory.CreateDirectory(_root + "-attacker").FullName;
        var planted = Path.Combine(_root, $"dso-{UnixFiles.EffectiveUserId}");
        Directory.CreateSymbolicLink(planted, attacker);
        try
        {
            var store = SecretStore.Locate(_ => null, new StoreLocations(disk.Combine("run"), _root));
            store.Materialize("shop", "api", [new SecretFile("db", "value"u8.ToArray(), UnixFileMode.UserRead, 0, 0)]);

            Assert.NotEqual(planted, store.Root);
            Assert.Empty(Directory.GetFileSystemEntries(attacker));
        }
        finally
        {
            Directory.Delete(attacker, recursive: true);
        }
    }

    [Fact]
    public void Open_RefusesASymlinkOrADirectoryOwnedBySomeoneElse()
    {
        // An attacker's link to a directory they control, on the same tmpfs.
        var target = Directory.CreateDirectory(_root + "-target").FullName;
        var link = _root + "-link";
        Directory.CreateSymbolicLink(link, target);
        var foreign = _root + "-foreign";
        Directory.CreateDirectory(foreign);
        UnixFiles.Chown(foreign, 4321, 4321);
        try
        {
            Assert.Contains("a symbolic link", Assert.Throws<DsoException>(() => SecretStore.Open(link, link)).Message, StringComparison.Ordinal);
            Assert.Contains("owned by uid 4321", Assert.Throws<DsoException>(() => SecretStore.Open(foreign, foreign)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(link);
            Directory.Delete(target);
            Directory.Delete(foreign);
        }
    }

    [Fact]
    public void Materialize_WritesFilesWithModeAndOwner_AndRemovesWhatIsNoLongerWanted()
    {
        var store = SecretStore.Open(_root, "test");
        var first = store.Materialize("shop", "api", [
            new SecretFile("a", "one"u8.ToArray(), UnixFileMode.UserRead, 1000, 2000),
            new SecretFile(".dso-env/0", "env"u8.ToArray(), UnixFileMode.UserRead, 0, 0),
        ]);

        Assert.Equal("one", File.ReadAllText(Path.Combine(first, "a")));
        var owner = UnixFiles.Ownership(Path.Combine(first, "a"));
        Assert.Equal((1000u, 2000u, UnixFileMode.UserRead), (owner.Uid, owner.Gid, owner.Mode));

        store.Materialize("shop", "api", [new SecretFile("b", "two"u8.ToArray(), UnixFileMode.UserRead, 0, 0)]);

        Assert.False(File.Exists(Path.Combine(first, "a")));
        Assert.False(File.Exists(Path.Combine(first, ".dso-env", "0")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(first, "b")));
        Assert.Empty(Directory.GetFiles(first, ".tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ReplacingAFile_IsAtomic_ReadersSeeOldOrNewNeverAMix()
    {
        var store = SecretStore.Open(_root, "test");
        var old = new string('o', 64 * 1024);
        var updated = new string('n', 64 * 1024);
        var directory = store.Materialize("shop", "api", [new SecretFile("v", System.Text.Encoding.ASCII.GetBytes(old), UnixFileMode.UserRead, 0, 0)]);
        var path = Path.Combine(directory, "v");
        var mixed = 0;
        var reads = 0;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var text = File.ReadAllText(path);
                reads++;
                if (text != old && text != updated)
                {
                    mixed++;
                }
            }
        }, TestContext.Current.CancellationToken);

        for (var i = 0; i < 200; i++)
        {
            store.Materialize("shop", "api", [new SecretFile("v", System.Text.Encoding.ASCII.GetBytes(i % 2 == 0 ? updated : old), UnixFileMode.UserRead, 0, 0)]);
        }

        stop.Cancel();
        await reader;
        Assert.Equal(0, mixed);
        Assert.True(reads > 0);
    }

    [Fact]
    public void Generations_ArePreparedAside_AndActivatedByFlippingCurrent()
    {
        var store = SecretStore.Open(_root, "test");
        var mount = store.Materialize("shop", "api", [new SecretFile("v", "one"u8.ToArray(), UnixFileMode.UserRead, 0, 0)]);

        var next = store.PrepareGeneration("shop", "api", [new SecretFile("v", "two"u8.ToArray(), UnixFileMode.UserRead, 0, 0)]);

        Assert.Equal(Path.Combine(_root, "shop", "api", "current"), mount);
        Assert.Equal("g1", store.CurrentGeneration("shop", "api"));
        Assert.Equal("g2", next);
        Assert.Equal("one", File.ReadAllText(Path.Combine(mount, "v")));
        store.Activate("shop", "api", next);
        Assert.Equal("two", File.ReadAllText(Path.Combine(mount, "v")));
        Assert.Equal(["g1", "g2"], store.Generations("shop", "api"));
        Assert.Throws<DsoException>(() => store.RemoveGeneration("shop", "api", "g2"));
        store.RemoveGeneration("shop", "api", "g1");
        Assert.Equal(["g2"], store.Generations("shop", "api"));
        store.Materialize("shop", "api", [new SecretFile("v", "three"u8.ToArray(), UnixFileMode.UserRead, 0, 0)]);
        Assert.Equal(("g2", "three"), (store.CurrentGeneration("shop", "api"), File.ReadAllText(Path.Combine(mount, "v"))));
    }

    [Fact]
    public void RemoveProject_DeletesEverything()
    {
        var store = SecretStore.Open(_root, "test");
        store.Materialize("shop", "api", [new SecretFile("a", "x"u8.ToArray(), UnixFileMode.UserRead, 0, 0)]);
        store.Materialize("shop", "web", [new SecretFile("b", "y"u8.ToArray(), UnixFileMode.UserRead, 0, 0)]);

        Assert.True(store.RemoveProject("shop"));

        Assert.False(Directory.Exists(store.ProjectDirectory("shop")));
        Assert.False(store.RemoveProject("shop"));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    public void UnsafeNames_NeverBecomePaths(string name)
    {
        var store = SecretStore.Open(_root, "test");

        Assert.Throws<DsoException>(() => store.ServiceDirectory("shop", name));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
