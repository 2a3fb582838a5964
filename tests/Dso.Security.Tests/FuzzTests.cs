using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Dso.Configuration;
using Dso.DotEnv;
using Dso.Injection.Compose;
using Dso.Ipc;
using Dso.Launching;
using Dso.Plugins;
using Dso.Secrets;
using Dso.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace Dso.Security.Tests;

/// <summary>
/// Property-based fuzzing of every reader of outside input, 10,000 cases each: valid samples with
/// random mutations (characters YAML, dotenv, references and JSON care about inserted, spans
/// deleted, duplicated or cut) and plain random text. Each reader either succeeds or fails with its
/// one clear error type and a one-line message — never another exception, and never slowly.
/// </summary>
public sealed class FuzzTests
{
    public const int Cases = 10_000;

    /// <summary>No single input may take longer than this (a hang or a blow-up).</summary>
    private static readonly TimeSpan Slowest = TimeSpan.FromSeconds(2);

    private static readonly string[] Specials =
    [
        ":", "-", "\"", "'", "\\", "\n", "\r", "\r\n", "\t", " ", "{", "}", "[", "]", "&", "&a", "*", "*a", "<<", "<", ">", "!", "|", "%", "@", "`", "#", "$", "${", "=",
        "/", "?", "?mode=", ",", ".", "..", "~", "^", "+", "_", "(", ")", "0", "a", "Z", "é", "\u0000", "\u00a0", "\u2028", "\ud83d\ude00", "dso://", "dsofile://", "\\n", "\\u00",
    ];

    private static Gen<string> Mutated(params string[] seeds) =>
        from seed in Gen.Elements(seeds)
        from edits in Gen.Choose(0, 6).SelectMany(n => Edit().ArrayOf(n))
        select edits.Aggregate(seed, (text, edit) => edit(text));

    private static Gen<Func<string, string>> Edit() => Gen.OneOf(
        from at in Gen.Choose(0, 10_000)
        from token in Gen.Elements(Specials)
        select (Func<string, string>)(t => Whole(t.Insert(Cut(t, at % (t.Length + 1)), token))),
        from at in Gen.Choose(0, 10_000)
        from length in Gen.Choose(1, 12)
        select (Func<string, string>)(t => t.Length == 0 ? t : Whole(t.Remove(at % t.Length, Math.Min(length, t.Length - (at % t.Length))))),
        from at in Gen.Choose(0, 10_000)
        from length in Gen.Choose(1, 40)
        select (Func<string, string>)(t => t.Length == 0 ? t : Whole(t.Insert(at % t.Length, t.Substring(at % t.Length, Math.Min(length, t.Length - (at % t.Length)))))),
        from at in Gen.Choose(0, 10_000)
        select (Func<string, string>)(t => Whole(t[..(at % (t.Length + 1))])));

    /// <summary>A position that does not split a surrogate pair.</summary>
    private static int Cut(string text, int at) => at > 0 && at < text.Length && char.IsLowSurrogate(text[at]) ? at - 1 : at;

    /// <summary>Files and request bodies are UTF-8: a cut that split a pair becomes U+FFFD, as it would on the wire.</summary>
    private static string Whole(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

    private static Gen<string> Input(params string[] seeds) => Gen.Frequency(
        (4, Mutated(seeds)),
        (1, Gen.Elements(Specials).ArrayOf().Select(string.Concat)));

    /// <summary>Runs <paramref name="read"/> on <see cref="Cases"/> inputs; <typeparamref name="TError"/> is the only exception type allowed.</summary>
    private static int Fuzz<TError>(Gen<string> inputs, Action<string> read, Func<TError, string>? message = null)
        where TError : Exception
    {
        var failed = 0;
        Prop.ForAll(inputs.ToArbitrary(), text =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                read(text);
            }
            catch (TError e)
            {
                failed++;
                var line = message?.Invoke(e) ?? e.Message;
                Assert.False(string.IsNullOrWhiteSpace(line), $"an empty error for {Json(text)}");
                Assert.DoesNotContain('\n', line);
                Assert.DoesNotContain('\u2028', line);
            }

            Assert.True(clock.Elapsed < Slowest, $"{clock.Elapsed.TotalSeconds:0.0}s for {Json(text)}");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true));
        TestContext.Current.TestOutputHelper?.WriteLine($"{Cases} cases, {failed} refused with a clear error, {Cases - failed} accepted");
        return failed;
    }

    private static string Json(string text) => JsonSerializer.Serialize(text);

    [Fact]
    public void ReferenceParser()
    {
        var refused = Fuzz<DsoException>(
            Input("dso://shop/db", "dsofile://vault:kv/app/tls#cert@3?mode=0440&uid=1000&gid=2000&name=tls.pem", "dso://aws:prod/api-key#token", "dsofile://x/y?name=a.b"),
            text =>
            {
                var ok = SecretReference.TryParse(text, out _, out var problem);
                if (!ok && SecretReference.IsReference(text))
                {
                    Assert.False(string.IsNullOrEmpty(problem));
                    SecretReference.Parse(text);
                }
            });
        Assert.InRange(refused, 1, Cases - 1);
    }

    [Fact]
    public void DotEnvParser_()
    {
        var refused = Fuzz<DsoException>(
            Input("DB_PASSWORD=hunter2\nexport API_KEY='a b'\n# comment\nMULTI=\"line one\nline two\"\nEMPTY=\n", "A=\"x\\ny\"\nB=${A}\n"),
            text => DotEnvParser.Parse(text, "fuzz.env"));
        Assert.InRange(refused, 1, Cases - 1);
    }

    [Fact]
    public void DsoYamlLoader()
    {
        using var dir = new TempDirectory("dso-fuzz-config-");
        var path = dir.Combine("dso.yaml");
        var refused = Fuzz<DsoException>(
            Input(
                "version: v1.0.0\nmode: agent\nagent:\n  socket: /run/dso/dso.sock\n  debounce: 5s\n  api:\n    address: 127.0.0.1:8471\nproviders:\n  vault:\n    type: vault\n    address: https://vault:8200\n    auth:\n      method: token\n      params:\n        token: ${VAULT_TOKEN}\n    circuit:\n      failures: 3\nnotifications:\n  webhooks:\n    - url: https://hooks.example/x\n      format: slack\n",
                "logging:\n  level: debug\n  format: json\nsecrets:\n  - name: db\n    provider: vault\n    mappings:\n      password: DB_PASSWORD\n"),
            text =>
            {
                File.WriteAllText(path, text);
                ConfigLoader.Load(path, name => name == "VAULT_TOKEN" ? "s.token" : null, dir.Path);
            });
        Assert.InRange(refused, 1, Cases - 1);
    }

    [Fact]
    public void ComposeLoader_()
    {
        using var dir = new TempDirectory("dso-fuzz-compose-");
        var path = dir.Combine("compose.yaml");
        dir.WriteFile("app.env", "TOKEN=dso://app/token\n");
        dir.WriteFile(".env", "TAG=1\n");
        var refused = Fuzz<DsoException>(
            Input(
                "x-env: &env\n  DB: dso://shop/db\nservices:\n  api:\n    image: busybox:${TAG}\n    command: [\"sleep\", \"1\"]\n    env_file: [app.env]\n    environment:\n      <<: *env\n      PLAIN: x\n    ports: [\"127.0.0.1:8080:80\"]\n    labels:\n      dso.strategy: rolling\n    depends_on: [db]\n  db:\n    extends: api\n    environment:\n      - KEY_FILE=dsofile://shop/key?mode=0400\n",
                "services:\n  web:\n    build: .\n    user: \"1000:1000\"\n    profiles: [debug]\n    x-dso:\n      strategy: restart\n"),
            text =>
            {
                File.WriteAllText(path, text);
                ComposeLoader.Load(new ComposeOptions([path], "fuzz", null, null, []), new Dictionary<string, string>(), dir.Path);
            });
        Assert.InRange(refused, 1, Cases - 1);
    }

    [Fact]
    public void PluginMessageReader()
    {
        var refused = Fuzz<FormatException>(
            Input(
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"secrets\":[{\"path\":\"a/b\",\"value\":\"x\",\"version\":\"3\"}]}}",
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32001,\"message\":\"not found\"}}",
                "{\"jsonrpc\":\"2.0\",\"method\":\"initialize\",\"params\":{\"protocol\":1}}"),
            text =>
            {
                using var message = RpcMessage.Parse(Encoding.UTF8.GetBytes(text));
                if (message.Result is { } result)
                {
                    PluginAnswers.ReadResolved(result, 1).ForEach(r => r.Value?.Dispose());
                }
            });
        Assert.InRange(refused, 1, Cases - 1);
    }

    [Fact]
    public void IpcRequestReaders()
    {
        var refused = Fuzz<JsonException>(
            Input(
                "{\"project\":\"shop\",\"services\":[{\"name\":\"api\",\"references\":[{\"variable\":\"DB\",\"reference\":\"dso://shop/db\"}]}]}",
                "{\"project\":null,\"services\":[\"api\"],\"secret\":\"shop/db\",\"force\":true}"),
            text =>
            {
                // The agent reads request bodies as UTF-8 bytes.
                var body = Encoding.UTF8.GetBytes(text);
                _ = JsonSerializer.Deserialize(body, IpcJson.Wire.ProjectRegistration);
                _ = JsonSerializer.Deserialize(body, IpcJson.Wire.RotateRequest);
            },
            IpcJson.Describe);
        Assert.InRange(refused, 1, Cases);
    }

    [Fact]
    public void LauncherManifestReader()
    {
        var refused = Fuzz<FormatException>(
            Input($"{LauncherManifest.Header}\nenv\tDB_PASSWORD\tshop/db\t-\nfile\tTLS_FILE\t/run/secrets/dso/tls\t0440\n"),
            text => LauncherManifest.Parse(text));
        Assert.InRange(refused, 1, Cases - 1);
    }

    [Fact]
    public void AgentArguments()
    {
        var refused = Fuzz<FormatException>(
            Input("--config /etc/dso/dso.yaml --log-level debug", "--config=dso.yaml --log-level=warning", "--help", "--version"),
            text =>
            {
                // dso-agent's argv: the words of the text (a problem is raised as is, so a line break in it fails the check).
                var parsed = Dso.Agent.Hosting.AgentMain.Parse(text.Split(' '));
                if (parsed.Problem is { } problem)
                {
                    throw new FormatException(problem);
                }
            });
        Assert.InRange(refused, 1, Cases - 1);
    }
}
