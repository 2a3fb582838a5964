using System.Security.Cryptography;
using Dso.Secrets;

namespace Dso.Vault.Tests;

public sealed class TamperTests
{
    [Fact]
    public void FlippingAnyByte_MakesOpeningFail_AndTheFileStaysAsItWas()
    {
        using var fixture = new VaultFixture();
        fixture.Set("shop/db_password", "first");
        fixture.Set("shop/api_key", "second");
        fixture.Set("shop/api_key", "third");
        var original = fixture.Bytes();

        var undetected = new List<int>();
        for (var offset = 0; offset < original.Length; offset++)
        {
            var tampered = (byte[])original.Clone();
            tampered[offset] ^= 0xFF;
            File.WriteAllBytes(fixture.VaultPath, tampered);

            try
            {
                using var vault = fixture.Open();
                using var value = vault.Get("shop/db_password");
                undetected.Add(offset);
            }
            catch (DsoException e)
            {
                Assert.DoesNotContain('\n', e.Message);
            }

            Assert.Equal(tampered, fixture.Bytes());
        }

        Assert.Empty(undetected);
    }

    [Fact]
    public void TamperingAfterOpen_IsDetectedOnTheNextRead()
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/b", "v");
        using var vault = fixture.Open();
        var bytes = fixture.Bytes();
        bytes[^40] ^= 0x01;
        File.WriteAllBytes(fixture.VaultPath, bytes);

        var error = Assert.Throws<DsoException>(() => vault.List());

        Assert.Contains("integrity check", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(99)]
    [InlineData(100)]
    [InlineData(135)]
    [InlineData(-1)]
    public void TruncatedOrEmptyFiles_AreRefusedWithAClearError(int keep)
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/b", "value");
        var original = fixture.Bytes();
        var truncated = original[..(keep < 0 ? original.Length - 1 : keep)];
        File.WriteAllBytes(fixture.VaultPath, truncated);

        var error = Assert.Throws<DsoException>(() => fixture.Open());

        Assert.Matches("empty|truncated|not a DSO vault|integrity check", error.Message);
        Assert.Equal(truncated, fixture.Bytes());
    }

    [Fact]
    public void AppendedBytes_AreDetected()
    {
        using var fixture = new VaultFixture();
        fixture.Set("a/b", "value");
        File.WriteAllBytes(fixture.VaultPath, [.. fixture.Bytes(), 0x00]);

        Assert.Contains("integrity check", Assert.Throws<DsoException>(() => fixture.Open()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEntryMovedToAnotherNameOrVersion_FailsItsOwnCheck_EvenUnderAValidMac()
    {
        // Forge a file as someone holding the MAC key but not entitled to rename entries would:
        // the per-entry associated data (name, version, time) still catches the move.
        using var dir = new Dso.Testing.TempDirectory();
        var path = dir.Combine("forged.dso");
        var keyBytes = RandomNumberGenerator.GetBytes(32);
        using var credential = VaultCredential.FromKey(keyBytes);
        var kdf = KdfParameters.NewKeyFile(RandomNumberGenerator.GetBytes(16));
        using var keys = VaultKeys.CreateRandom();
        var kek = credential.DeriveKeyEncryptionKey(kdf);
        var header = VaultHeader.Wrap(kdf, kek, keys.DataKey);
        using var value = SecretValue.FromString("admin-password");
        var genuine = VaultEntry.Seal(keys, "app/admin", 1, DateTimeOffset.UnixEpoch, value);
        var moved = genuine with { Name = "app/guest" };
        var rolledBack = genuine with { Version = 2 };
        File.WriteAllBytes(path, new VaultDocument(header, [moved, rolledBack]).Serialize(keys));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using var vault = LocalVault.Open(path, _ => VaultCredential.FromKey(keyBytes));

        Assert.Contains("integrity check", Assert.Throws<DsoException>(() => vault.Get("app/guest")).Message, StringComparison.Ordinal);
        Assert.Contains("integrity check", Assert.Throws<DsoException>(() => vault.Get("app/admin")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongKeyFile_IsRefused()
    {
        using var fixture = new VaultFixture();
        var otherKey = Path.Combine(fixture.Directory, "other.key");
        KeyFile.Generate(otherKey).Dispose();

        var error = Assert.Throws<DsoException>(() => LocalVault.Open(fixture.VaultPath, _ => KeyFile.Read(otherKey)));

        Assert.Contains("wrong key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vault")]
    [InlineData("key")]
    public void FilesReadableByGroupOrOthers_AreRefusedWithTheFix(string which)
    {
        using var fixture = new VaultFixture();
        var path = which == "vault" ? fixture.VaultPath : fixture.KeyPath;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var error = Assert.Throws<DsoException>(() => fixture.Open());

        Assert.Contains($"chmod 600 {path}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileThatIsNotAVault_IsNamedAsSuch()
    {
        using var fixture = new VaultFixture();
        File.WriteAllText(fixture.VaultPath, "services:\n  api: {}\n");

        Assert.Contains("is not a DSO vault", Assert.Throws<DsoException>(() => fixture.Open()).Message, StringComparison.Ordinal);
    }
}
