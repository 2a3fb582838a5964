using System.Text;
using Dso.Agent.Observability;

namespace Dso.Agent.Tests;

/// <summary>G5: what the redactor masks, value by value and by pattern.</summary>
public sealed class SecretRedactorTests
{
    [Fact]
    public void AFieldOfAJsonSecret_IsMaskedOnItsOwn_AsAHashKeyReferenceDeliversIt()
    {
        var redactor = new SecretRedactor();
        redactor.Remember(Encoding.UTF8.GetBytes("""{"user":"app","password":"pw-7f3a9c1e","nested":{"token":"tk-51b2d4e8"},"port":5432,"on":true,"list":["li-0a9b8c7d"]}"""));

        var text = redactor.Redact("login failed for pw-7f3a9c1e with tk-51b2d4e8 and li-0a9b8c7d on 5432 (untrue)");

        // Numbers and booleans are not masked: whoever writes a secret must not blank out ordinary text.
        Assert.Equal("login failed for [redacted] with [redacted] and [redacted] on 5432 (untrue)", text);
    }

    [Fact]
    public void EachLineOfAMultiLineValue_IsMaskedOnItsOwn_AsLogsArriveALineAtATime()
    {
        var redactor = new SecretRedactor();
        redactor.Remember(Encoding.UTF8.GetBytes("first-line-of-the-key\r\nsecond-line-of-the-key\n"));

        Assert.Equal("plugin said: [redacted]", redactor.Redact("plugin said: second-line-of-the-key"));
    }

    [Theory]
    [InlineData("""{"password":"hunter2hunter2"}""", """{"password":"[redacted]"}""")]
    [InlineData("""{"api_key": "k-9a8b7c6d5e"}""", """{"api_key": "[redacted]"}""")]
    [InlineData("""{"client_secret":"with \"quote\" inside"}""", """{"client_secret":"[redacted]"}""")]
    [InlineData("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [redacted]")]
    [InlineData("authorization=Token abcdef123456", "authorization=Token [redacted]")]
    [InlineData("Proxy-Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "Proxy-Authorization: Bearer [redacted]")]
    [InlineData("key sk-proj-AbCdEf0123456789xyz used", "key [redacted] used")]
    [InlineData("token ghp_0123456789abcdefghijABCDEFGHIJ0123 seen", "token [redacted] seen")]
    [InlineData("password=hunter22 next", "password=[redacted] next")]
    [InlineData("AKIAABCDEFGHIJKLMNOP", "[redacted]")]
    [InlineData("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key = [redacted]")]
    [InlineData("DSO_PASSPHRASE=correct-horse-battery", "DSO_PASSPHRASE=[redacted]")]
    [InlineData("""{"db_password":"hunter2hunter2","access_token":"ya29.a0AfH6"}""", """{"db_password":"[redacted]","access_token":"[redacted]"}""")]
    [InlineData("Cookie: session=abc123def456", "Cookie: [redacted]")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY----- after", "[redacted] after")]
    [InlineData("-----BEGIN PRIVATE KEY----- MIIEvQIBADANBg (cut)", "[redacted]")]
    public void TextShapedLikeACredential_IsMaskedByPattern(string text, string expected)
    {
        Assert.Equal(expected, new SecretRedactor().Redact(text));
    }

    [Fact]
    public void OrdinaryText_IsLeftAsItIs()
    {
        const string Text = "rotated shop/api (restart) in 1.2s; sk-short; the skeleton key; Authorization header missing; {\"secret\":\"shop/db\",\"secretsDirectory\":\"/run/dso/secrets\"}";

        Assert.Equal(Text, new SecretRedactor().Redact(Text));
    }
}
