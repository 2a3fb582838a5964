using System.Text;
using System.Text.Json;
using Dso.Plugins;

namespace Dso.Providers.Plugins;

/// <summary>One conformance check's outcome.</summary>
internal sealed record ConformanceCheck(string Id, bool Passed, string Detail);

/// <summary>
/// The conformance kit (docs/providers.md, section 9): starts a plugin executable and checks that it
/// speaks protocol version 1 as the spec says — each check from a fresh process where the order of
/// calls matters. <paramref name="known"/> are paths the plugin must resolve to values, and
/// <paramref name="missing"/> one it must report as absent (not transient).
/// </summary>
internal sealed class ConformanceKit(PluginLaunch launch, byte[] config, IReadOnlyList<string> known, string missing, TimeSpan deadline)
{
    public async Task<IReadOnlyList<ConformanceCheck>> RunAsync(CancellationToken cancellationToken)
    {
        var checks = new List<ConformanceCheck>();
        async Task Check(string id, Func<Task<string>> body)
        {
            try
            {
                checks.Add(new ConformanceCheck(id, true, await body()));
            }
            catch (Exception e) when (e is PluginException or ConformanceFailure or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                checks.Add(new ConformanceCheck(id, false, e.Message));
            }
        }

        await Check("before-initialize", async () =>
        {
            await using var p = Start();
            using var answer = await p.ExchangeRawAsync(RpcMessage.Request(1, PluginProtocol.Resolve, w => PluginAnswers.WriteRequests(w, [new SecretRequest(missing, null)])), deadline, cancellationToken);
            Expect(answer.Error is not null && answer.NumericId == 1, "a resolve before initialize must be answered with an error carrying its id");
            await Initialize(p, 2, cancellationToken);
            return $"refused with code {answer.Error!.Code}, and initialize still worked";
        });

        PluginCapabilities? capabilities = null;
        await using (var p = Start())
        {
            await Check("initialize", async () =>
            {
                capabilities = await Initialize(p, 1, cancellationToken);

                return $"protocol {PluginProtocol.Version}, versions: {capabilities.Versions}, maxBatch: {capabilities.MaxBatch}";
            });
            if (capabilities is null)
            {
                return checks;
            }

            await Check("resolve", async () =>
            {
                var answers = await ResolveAsync(p, 10, known, cancellationToken);
                Expect(answers.All(a => a.Value is not null), "every known path must resolve to a value: " + string.Join("; ", answers.Where(a => a.Value is null).Select(a => a.Error)));
                answers.ForEach(a => a.Value!.Dispose());
                return $"{answers.Count} value(s)";
            });
            await Check("missing", async () =>
            {
                var answers = await ResolveAsync(p, 11, [missing], cancellationToken);
                Expect(answers[0] is { Value: null, Transient: false }, "a path that does not exist must be an error with transient false");
                return $"reported: {answers[0].Error}";
            });
            await Check("batch-order", async () =>
            {
                var paths = known.Concat([missing]).Concat(known).Take(Math.Max(2, Math.Min(capabilities.MaxBatch, 2 * known.Count + 1))).ToList();
                var answers = await ResolveAsync(p, 12, paths, cancellationToken);
                for (var i = 0; i < paths.Count; i++)
                {
                    Expect((paths[i] == missing) == (answers[i].Value is null), $"answer {i} does not belong to request {i}: answers must come in request order");
                }

                answers.ForEach(a => a.Value?.Dispose());
                return $"{paths.Count} answers in request order";
            });
            await Check("versions", async () =>
            {
                if (!capabilities.Versions)
                {
                    using var refused = await p.ExchangeRawAsync(RpcMessage.Request(13, PluginProtocol.Versions, w => PluginAnswers.WriteRequests(w, [new SecretRequest(known[0], null)])), deadline, cancellationToken);
                    Expect(refused.Error is not null || refused.Result is not null, "versions must be answered");
                    return "not declared; answered anyway";
                }

                var first = await VersionsAsync(p, 14, cancellationToken);
                var second = await VersionsAsync(p, 15, cancellationToken);
                Expect(first.All(v => v.Version is not null), "every known path must have a version");
                Expect(first.Select(v => v.Version).SequenceEqual(second.Select(v => v.Version)), "versions must not change when the secrets did not");
                return string.Join(", ", first.Select(v => v.Version));
            });
            await Check("unknown-method", async () =>
            {
                using var answer = await p.ExchangeRawAsync(RpcMessage.Request(16, "no.such.method"), deadline, cancellationToken);
                Expect(answer.Error?.Code == PluginErrorCodes.MethodNotFound && answer.NumericId == 16, $"an unknown method must get error {PluginErrorCodes.MethodNotFound} with the request's id");
                return "method not found";
            });
            await Check("garbage", async () =>
            {
                using var answer = await p.ExchangeRawAsync(Encoding.UTF8.GetBytes("this is not json\n"), deadline, cancellationToken);
                Expect(answer.Error?.Code == PluginErrorCodes.ParseError, $"a line that is not JSON must get error {PluginErrorCodes.ParseError}");
                using var after = await p.CallAsync(PluginProtocol.Health, null, deadline, cancellationToken);
                return "parse error, and the plugin kept answering";
            });
            await Check("bad-params", async () =>
            {
                using var answer = await p.ExchangeRawAsync(RpcMessage.Request(17, PluginProtocol.Resolve, w => w.WriteString("secrets", "not a list")), deadline, cancellationToken);
                Expect(answer.Error?.Code == PluginErrorCodes.InvalidParams, $"malformed params must get error {PluginErrorCodes.InvalidParams}");
                return "invalid params";
            });
            await Check("health", async () =>
            {
                using var answer = await p.CallAsync(PluginProtocol.Health, null, deadline, cancellationToken);
                var result = answer.Result!.Value;
                Expect(result.TryGetProperty("ok", out var ok) && ok.ValueKind is JsonValueKind.True or JsonValueKind.False, "health must answer {\"ok\": true|false}");
                return ok.ValueKind == JsonValueKind.True ? "ok" : "not ok (allowed, but says the provider is down)";
            });
            await Check("shutdown", async () =>
            {
                using (await p.CallAsync(PluginProtocol.Shutdown, null, deadline, cancellationToken))
                {
                }

                Expect(await p.WaitForExitAsync(TimeSpan.FromSeconds(5)), "after answering shutdown the plugin must exit within 5 s");
                return "answered and exited";
            });
        }

        await Check("end-of-input", async () =>
        {
            await using var p = Start();
            await Initialize(p, 1, cancellationToken);
            p.CloseInput();
            Expect(await p.WaitForExitAsync(TimeSpan.FromSeconds(5)), "the plugin must exit within 5 s when its stdin closes");
            return "exited when stdin closed";
        });
        await Check("oversized-request", async () =>
        {
            await using var p = Start();
            await Initialize(p, 1, cancellationToken);
            var huge = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resolve\",\"params\":{\"secrets\":[{\"path\":\"" + new string('a', PluginProtocol.MaxMessageBytes) + "\"}]}}\n");
            try
            {
                using var answer = await p.ExchangeRawAsync(huge, deadline, cancellationToken);
                Expect(answer.Error is not null, "a request over 1 MiB must be refused, not served");
                return "refused with an error";
            }
            catch (PluginException)
            {
                Expect(await p.WaitForExitAsync(TimeSpan.FromSeconds(5)), "a plugin that does not answer an oversized request must exit");
                return "exited";
            }
        });
        return checks;
    }

    private PluginProcess Start() => PluginProcess.Start(launch, "under test", null);

    private async Task<PluginCapabilities> Initialize(PluginProcess p, long id, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(config);
        using var answer = await p.ExchangeRawAsync(RpcMessage.Request(id, PluginProtocol.Initialize, w =>
        {
            w.WriteNumber("protocolVersion", PluginProtocol.Version);
            w.WriteString("provider", "conformance");
            w.WriteString("type", "plugin");
            w.WritePropertyName("config");
            document.RootElement.WriteTo(w);
        }), deadline, cancellationToken);
        Expect(answer.NumericId == id, "the answer must carry the request's id");
        Expect(answer.Error?.Code != PluginErrorCodes.MethodNotFound, $"initialize failed: {answer.Error?.Message}; a plugin that knows only ResolveSecret speaks the original project's protocol, which DSO speaks too (protocol: resolve-secret in dso.yaml), but this kit checks protocol {PluginProtocol.Version}");
        Expect(answer.Error is null, $"initialize failed: {answer.Error?.Message}");
        return PluginCapabilities.Read(answer.Result) ?? throw new ConformanceFailure($"initialize must answer protocolVersion {PluginProtocol.Version}");
    }

    private async Task<List<ResolvedSecret>> ResolveAsync(PluginProcess p, long id, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        using var answer = await p.ExchangeRawAsync(RpcMessage.Request(id, PluginProtocol.Resolve, w => PluginAnswers.WriteRequests(w, [.. paths.Select(x => new SecretRequest(x, null))])), deadline, cancellationToken);
        Expect(answer.NumericId == id && answer.Result is not null, $"resolve must answer a result with the request's id ({answer.Error?.Message})");
        return PluginAnswers.ReadResolved(answer.Result!.Value, paths.Count);
    }

    private async Task<List<SecretVersion>> VersionsAsync(PluginProcess p, long id, CancellationToken cancellationToken)
    {
        using var answer = await p.ExchangeRawAsync(RpcMessage.Request(id, PluginProtocol.Versions, w => PluginAnswers.WriteRequests(w, [.. known.Select(x => new SecretRequest(x, null))])), deadline, cancellationToken);
        Expect(answer.NumericId == id && answer.Result is not null, $"versions must answer a result with the request's id ({answer.Error?.Message})");
        return PluginAnswers.ReadVersions(answer.Result!.Value, known.Count);
    }

    private static void Expect(bool condition, string rule)
    {
        if (!condition)
        {
            throw new ConformanceFailure(rule);
        }
    }

    private sealed class ConformanceFailure(string message) : Exception(message);
}
