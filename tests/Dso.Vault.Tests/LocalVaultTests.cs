using System.Text;
using Dso.Secrets;

namespace Dso.Vault.Tests;

public sealed class LocalVaultTests
{
    [Fact]
    public void SetThenGet_ReturnsTheExactValue_AfterReopening()
    {
        using var fixture = new VaultFixture();
        fixture.Set("myapp/db_password", "hunter2");

        using var vault = fixture.Open();
        using var value = vault.Get("myapp/db_password");

        Assert.Equal("hunter2", value.RevealString());
    }

    [Fact]
    public void Values_WithUnicodeAndEveryByte_RoundTripExactly()
    {
        using var fixture = new VaultFixture();
        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        const string unicode = "pässwörd-密码-🔑\n\ttrailing space ";
        using (var vault = fixture.Open())
        using (var b = SecretValue.FromBytes(binary))
        using (var u = SecretValue.FromString(unicode))
        {
            vault.Set("bin/all-bytes", b);
            vault.Set("text/unicode", u);
        }

        using var reopened = fixture.Open();
        using var gotBinary = reopened.Get("bin/all-bytes");
        using var gotUnicode = reopened.Get("text/unicode");
        Assert.Equal(binary, gotBinary.Reveal().ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes(unicode), gotUnicode.Reveal().ToArray());
    }

    [Fact]
    public void Set_WithTheCurrentValue_MakesNoNewVersion()
    {
        using var fixture = new VaultFixture();
        using var vault = fixture.Open();
        using var value = SecretValue.FromString("same");

        var first = vault.Set("a/b", value);
        var second = vault.Set("a/b", value);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Equal(1u, second.Version);
    }

    [Fact]
    public void History_KeepsTheLastTenVersions_OldestDropped()
    {
        using var fixture = new VaultFixture();
        using var vault = fixture.Open();
        for (var i = 1; i <= 14; i++)
        {
            using var value = SecretValue.FromString($"v{i}");
            vault.Set("app/key", value);
        }

        var history = vault.History("app/key");

        Assert.Equal(10, history.Count);
        Assert.Equal(Enumerable.Range(5, 10).Reverse().Select(i => (uint)i), history.Select(h => h.Version));
        Assert.True(history[0].Current);
        using var old = vault.Get("app/key", 5);
        Assert.Equal("v5", old.RevealString());
        var missing = Assert.Throws<DsoException>(() => vault.Get("app/key", 4));
        Assert.Contains("no version 4", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Remove_DeletesEveryVersion_AndReportsMissingNames()
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/one", "1");
        fixture.Set("a/one", "2");
        fixture.Set("a/two", "3");
        using var vault = fixture.Open();

        Assert.True(vault.Remove("a/one"));
        Assert.False(vault.Remove("a/one"));

        Assert.Equal(["a/two"], vault.List().Select(s => s.Name));
        Assert.Throws<DsoException>(() => vault.Get("a/one"));
    }

    [Fact]
    public void List_FiltersByPrefix_AndShowsCurrentVersion()
    {
        using var fixture = new VaultFixture();
        fixture.Set("shop/db", "x");
        fixture.Set("shop/db", "y");
        fixture.Set("shop/api", "z");
        fixture.Set("blog/db", "w");
        using var vault = fixture.Open();

        var shop = vault.List("shop/");

        Assert.Equal(["shop/api", "shop/db"], shop.Select(s => s.Name));
        Assert.Equal(2u, shop.Single(s => s.Name == "shop/db").Version);
        Assert.Equal(3, vault.List().Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a//b")]
    [InlineData("/a")]
    [InlineData("a/")]
    [InlineData("a/../b")]
    [InlineData("a/./b")]
    [InlineData("naïve")]
    [InlineData("with space")]
    [InlineData("provider:name")]
    [InlineData("name#key")]
    [InlineData("name@3")]
    public void Set_WithAnInvalidName_IsRefusedAndWritesNothing(string name)
    {
        using var fixture = new VaultFixture();
        var before = fixture.Bytes();
        using var vault = fixture.Open();
        using var value = SecretValue.FromString("v");

        var error = Assert.Throws<DsoException>(() => vault.Set(name, value));

        Assert.StartsWith("invalid secret name", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, fixture.Bytes());
    }

    [Fact]
    public void Set_EmptyOrOverOneMebibyte_IsRefused()
    {
        using var fixture = new VaultFixture();
        using var vault = fixture.Open();
        using var empty = SecretValue.FromBytes([]);
        using var huge = SecretValue.FromBytes(new byte[(1024 * 1024) + 1]);

        Assert.Contains("empty", Assert.Throws<DsoException>(() => vault.Set("a/b", empty)).Message, StringComparison.Ordinal);
        Assert.Contains("1 MiB", Assert.Throws<DsoException>(() => vault.Set("a/b", huge)).Message, StringComparison.Ordinal);
        using var max = SecretValue.FromBytes(new byte[1024 * 1024]);
        Assert.True(vault.Set("a/max", max).Changed);
    }

    [Fact]
    public void Create_OverAnExistingVault_IsRefusedAndLeavesItUntouched()
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/b", "v");
        var before = fixture.Bytes();

        using var credential = KeyFile.Read(fixture.KeyPath);
        var error = Assert.Throws<DsoException>(() => LocalVault.Create(fixture.VaultPath, credential));

        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, fixture.Bytes());
    }

    [Fact]
    public void Files_AreOwnerOnly()
    {
        using var fixture = new VaultFixture();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fixture.VaultPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fixture.KeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(fixture.VaultPath)!));
    }

    [Fact]
    public void TheCanary_IsNotInTheVaultFile_InPlainBase64OrHex()
    {
        using var fixture = new VaultFixture();
        var canary = VaultFixture.Canary();
        fixture.Set("app/canary", canary);
        fixture.Set("app/canary", canary + "-v2");

        var file = fixture.Bytes();
        var raw = Encoding.UTF8.GetBytes(canary);

        foreach (var form in new[] { raw, Encoding.ASCII.GetBytes(Convert.ToBase64String(raw)), Encoding.ASCII.GetBytes(Convert.ToHexString(raw)), Encoding.ASCII.GetBytes(Convert.ToHexString(raw).ToLowerInvariant()) })
        {
            Assert.Equal(-1, file.AsSpan().IndexOf(form));
        }
    }

    [Fact]
    public void Rekey_ToANewKey_OpensWithItAndNotWithTheOld_EntriesIntact()
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/b", "kept");
        var newKey = Path.Combine(fixture.Directory, "new.key");

        using (var vault = fixture.Open())
        using (var credential = KeyFile.Generate(newKey))
        {
            vault.Rekey(credential);
        }

        Assert.Throws<DsoException>(() => fixture.Open());
        using var reopened = LocalVault.Open(fixture.VaultPath, _ => KeyFile.Read(newKey));
        using var value = reopened.Get("a/b");
        Assert.Equal("kept", value.RevealString());
    }

    [Fact]
    public void Rekey_MakesANewDataKey_SoTheOldKeyAndAnOldCopyOpenNothingWrittenAfter()
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/before", "known-to-the-old-copy");
        var oldCopy = fixture.Bytes();
        var newKey = Path.Combine(fixture.Directory, "new.key");
        using (var vault = fixture.Open())
        using (var credential = KeyFile.Generate(newKey))
        {
            vault.Rekey(credential);
        }

        using (var reopened = LocalVault.Open(fixture.VaultPath, _ => KeyFile.Read(newKey)))
        using (var after = SecretValue.FromString("set-after-the-rekey"))
        {
            reopened.Set("a/after", after);
        }

        // What someone holding the old key and a pre-rekey copy can do: unwrap the old data key,
        // then try it on every entry of today's file (the MAC is not in their way: they skip it).
        using var oldKey = KeyFile.Read(fixture.KeyPath);
        var oldHeader = VaultHeader.Parse(oldCopy, "old copy");
        var kek = oldKey.DeriveKeyEncryptionKey(oldHeader.Kdf);
        using var oldDataKey = oldHeader.Unwrap(kek, "old copy");
        var today = fixture.Bytes();
        var body = today.AsSpan(VaultFormat.HeaderSize, today.Length - VaultFormat.HeaderSize - VaultFormat.MacSize);
        var offset = 4;
        var tried = new List<string>();
        var opened = new List<string>();
        while (VaultEntry.TryRead(body, ref offset) is { } entry)
        {
            tried.Add(entry.Name);
            try
            {
                using var value = entry.Open(oldDataKey, "today");
                opened.Add(entry.Name);
            }
            catch (DsoException)
            {
            }
        }

        Assert.Equal(["a/after", "a/before"], tried);
        Assert.Empty(opened);
        // The old copy itself still opens with the old key, and holds only what it held.
        var copyPath = Path.Combine(fixture.Directory, "old-copy.dso");
        File.WriteAllBytes(copyPath, oldCopy);
        File.SetUnixFileMode(copyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stillOld = LocalVault.Open(copyPath, _ => KeyFile.Read(fixture.KeyPath));
        Assert.Equal(["a/before"], stillOld.List().Select(i => i.Name));
    }

    [Fact]
    public async Task AVaultRekeyedByAnotherProcess_IsReopenedByTheProvider_WithTheCredentialItReadsNow()
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/b", "v1");
        var keyPath = fixture.KeyPath;
        using var provider = new VaultSecretProvider(() => LocalVault.Open(fixture.VaultPath, _ => KeyFile.Read(keyPath)));
        var request = new Dso.Providers.SecretRequest("a/b", null);
        Assert.Equal("v1", (await provider.ResolveAsync([request], TestContext.Current.CancellationToken))[0].Value!.RevealString());

        var newKey = Path.Combine(fixture.Directory, "rotated.key");
        using (var vault = fixture.Open())
        using (var credential = KeyFile.Generate(newKey))
        {
            vault.Rekey(credential);
        }

        keyPath = newKey;
        using (var writer = LocalVault.Open(fixture.VaultPath, _ => KeyFile.Read(newKey)))
        using (var v2 = SecretValue.FromString("v2"))
        {
            writer.Set("a/b", v2);
        }

        Assert.Equal("v2", (await provider.ResolveAsync([request], TestContext.Current.CancellationToken))[0].Value!.RevealString());
    }

    [Fact]
    public void PassphraseVault_OpensWithTheRightPassphraseOnly_AndRekeysToAKeyFile()
    {
        using var dir = new Dso.Testing.TempDirectory();
        var path = dir.Combine("v.dso");
        using (var credential = VaultCredential.FromPassphrase("correct horse"))
        using (var vault = LocalVault.Create(path, credential, VaultFixture.CheapPassphraseKdf()))
        using (var value = SecretValue.FromString("s"))
        {
            vault.Set("x/y", value);
        }

        var wrong = Assert.Throws<DsoException>(() => LocalVault.Open(path, _ => VaultCredential.FromPassphrase("wrong horse")));
        Assert.Contains("wrong passphrase", wrong.Message, StringComparison.Ordinal);
        var mismatch = Assert.Throws<DsoException>(() => LocalVault.Open(path, _ => VaultCredential.FromKey(new byte[32])));
        Assert.Contains("protected by a passphrase", mismatch.Message, StringComparison.Ordinal);

        using (var vault = LocalVault.Open(path, kind => kind == KdfKind.Passphrase ? VaultCredential.FromPassphrase("correct horse") : throw new InvalidOperationException()))
        using (var key = KeyFile.Generate(dir.Combine("k.key")))
        {
            vault.Rekey(key);
        }

        using var byKey = LocalVault.Open(path, _ => KeyFile.Read(dir.Combine("k.key")));
        Assert.Equal(KdfKind.KeyFile, byKey.Protection);
        using var got = byKey.Get("x/y");
        Assert.Equal("s", got.RevealString());
    }

    [Fact]
    public void AWriteByAnotherHandle_IsSeenByAnOpenVault()
    {
        using var fixture = new VaultFixture();
        using var first = fixture.Open();
        using var second = fixture.Open();
        using var value = SecretValue.FromString("from-second");

        second.Set("a/new", value);

        using var seen = first.Get("a/new");
        Assert.Equal("from-second", seen.RevealString());
    }
}
