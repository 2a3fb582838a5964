using Dso.Secrets;
using FsCheck;
using FsCheck.Fluent;

namespace Dso.Injection.Tests;

public sealed class SecretReferenceTests
{
    [Theory]
    [InlineData("dso://myapp/db_password", ReferenceKind.Env, null, "myapp/db_password", null, null)]
    [InlineData("dso://aws:prod/db#password", ReferenceKind.Env, "aws", "prod/db", "password", null)]
    [InlineData("dso://vault:kv/app@3", ReferenceKind.Env, "vault", "kv/app", null, "3")]
    [InlineData("dso://db#user@AWSCURRENT", ReferenceKind.Env, null, "db", "user", "AWSCURRENT")]
    [InlineData("dsofile://myapp/tls_key", ReferenceKind.File, null, "myapp/tls_key", null, null)]
    public void Parses_ProviderPathKeyAndVersion(string text, ReferenceKind kind, string? provider, string path, string? key, string? version)
    {
        var reference = SecretReference.Parse(text);

        Assert.Equal(kind, reference.Kind);
        Assert.Equal(provider, reference.Provider);
        Assert.Equal(path, reference.Path);
        Assert.Equal(key, reference.JsonKey);
        Assert.Equal(version, reference.Version);
    }

    [Fact]
    public void FileOptions_AreParsed_AndTheFileNameDefaultsToTheLastSegment()
    {
        var reference = SecretReference.Parse("dsofile://myapp/tls_key?mode=0440&uid=999&gid=998&name=db.pem");
        var plain = SecretReference.Parse("dsofile://myapp/tls_key");

        Assert.Equal(new SecretFileOptions(Convert.ToInt32("440", 8), 999, 998, "db.pem"), reference.File);
        Assert.Equal("db.pem", reference.FileName);
        Assert.Equal("tls_key", plain.FileName);
        Assert.True(plain.File.IsEmpty);
    }

    [Theory]
    [InlineData("http://x", "it must start with dso:// or dsofile://")]
    [InlineData("dso://", "the secret path is empty")]
    [InlineData("dso://a//b", "the path has an empty segment (a leading, trailing or doubled '/')")]
    [InlineData("dso://a/../b", "the path has a '..' segment")]
    [InlineData("dso://a b", "the path has the character ' '; paths use letters, digits, '.', '_', '-', '+', '=' and '/'")]
    [InlineData("dso://AWS:x", "the provider 'AWS' before ':' must be lowercase letters, digits, '_' or '-' (a key of providers: in dso.yaml)")]
    [InlineData("dso://x#", "the JSON key '' after # must be a non-empty field name")]
    [InlineData("dso://x@", "the version '' after @ must be letters, digits, '.', '_' or '-'")]
    [InlineData("dso://x?mode=0400", "file options (?mode=…) apply to dsofile:// references only")]
    [InlineData("dsofile://x?mode=0644", "mode 0644 makes the secret writable; secrets are read-only (use 0400 or 0440)")]
    [InlineData("dsofile://x?mode=rw", "mode 'rw' must be octal permissions such as 0400 or 0440")]
    [InlineData("dsofile://x?uid=-1", "uid '-1' must be a number (a numeric user or group id)")]
    [InlineData("dsofile://x?name=../etc", "name '../etc' must be a plain file name (letters, digits, '.', '_', '-')")]
    [InlineData("dsofile://x?name=.dso-manifest", "the file name '.dso-manifest' is reserved for DSO's own files (names starting with .dso); give the file another name with ?name=NAME")]
    [InlineData("dsofile://app/.dso-manifest", "the file name '.dso-manifest' is reserved for DSO's own files (names starting with .dso); give the file another name with ?name=NAME")]
    [InlineData("dsofile://app/db?name=.dso-env", "the file name '.dso-env' is reserved for DSO's own files (names starting with .dso); give the file another name with ?name=NAME")]
    [InlineData("dsofile://x?owner=1", "unknown option 'owner' (known: mode, uid, gid, name)")]
    [InlineData("dsofile://x?uid=1&uid=2", "the option 'uid' is given twice")]
    public void BadReferences_GetExactMessages(string text, string problem)
    {
        var error = Assert.Throws<DsoException>(() => SecretReference.Parse(text));

        Assert.Equal($"invalid reference '{text}': {problem}", error.Message);
    }

    [Fact]
    public void CanonicalText_ParsesBackToTheSameReference()
    {
        var segment = Gen.Elements("abcXYZ019._-+=".ToCharArray()).ArrayOf().Where(a => a.Length is > 0 and < 8).Select(a => new string(a)).Where(s => s is not "." and not "..");
        var token = Gen.Elements("abcXYZ019_-".ToCharArray()).ArrayOf().Where(a => a.Length is > 0 and < 6).Select(a => new string(a));
        var references =
            from kind in Gen.Elements(ReferenceKind.Env, ReferenceKind.File)
            from provider in Gen.OneOf(Gen.Constant<string?>(null), token.Select(t => (string?)t.ToLowerInvariant()))
            from path in segment.ArrayOf().Where(a => a.Length is > 0 and < 4).Select(a => string.Join('/', a))
            from key in Gen.OneOf(Gen.Constant<string?>(null), token.Select(t => (string?)t))
            from version in Gen.OneOf(Gen.Constant<string?>(null), token.Select(t => (string?)t))
            from mode in Gen.Elements<int?>(null, 256, 288, 292)
            from uid in Gen.Elements<int?>(null, 0, 999)
            from name in Gen.OneOf(Gen.Constant<string?>(null), token.Select(t => (string?)("f" + t)))
            select new SecretReference(kind, provider, path, key, version, kind == ReferenceKind.File ? new SecretFileOptions(mode, uid, uid, name) : SecretFileOptions.None);

        Prop.ForAll(references.ToArbitrary(), (SecretReference reference) => SecretReference.Parse(reference.ToString()) == reference)
            .Check(Config.QuickThrowOnFailure.WithMaxTest(2000));
    }

    [Fact]
    public void AnyText_EitherParsesOrFailsWithADsoException()
    {
        var texts = Gen.Elements("dso:/file#@?&=.-_ aZ09:".ToCharArray()).ArrayOf().Select(c => "dso://" + new string(c));
        Prop.ForAll(texts.ToArbitrary(), (string text) =>
        {
            if (SecretReference.TryParse(text, out var reference, out var problem))
            {
                return SecretReference.Parse(reference.ToString()) == reference;
            }

            return problem.Length > 0;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(5000));
    }
}
