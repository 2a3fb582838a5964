using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace Dso.Vault.Tests;

public sealed class Argon2Tests
{
    [Fact]
    public async Task PassphraseKdf_MatchesAnIndependentArgon2idImplementation_AtTheRealParameters()
    {
        const string passphrase = "correct horse battery staple ✓";
        var salt = RandomNumberGenerator.GetBytes(16);
        var parameters = KdfParameters.NewPassphrase(salt);
        using var credential = VaultCredential.FromPassphrase(passphrase);

        var ours = credential.DeriveKeyEncryptionKey(parameters);

        using var independent = new Argon2id(Encoding.UTF8.GetBytes(passphrase))
        {
            Salt = salt,
            MemorySize = (int)parameters.MemoryKiB,
            Iterations = (int)parameters.Passes,
            DegreeOfParallelism = (int)parameters.Parallelism,
        };
        var theirs = await independent.GetBytesAsync(32);
        Assert.Equal(128 * 1024u, parameters.MemoryKiB);
        Assert.Equal(3u, parameters.Passes);
        Assert.Equal(1u, parameters.Parallelism);
        Assert.Equal(theirs, ours);
    }
}
