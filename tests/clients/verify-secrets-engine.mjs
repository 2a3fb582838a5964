// Asks DSO's agent for secrets with the official Connect client for Node, as a Docker Secrets
// Engine client would: resolver.v1.ResolverService/GetSecrets over the agent's Unix socket.
// Usage: node verify-secrets-engine.mjs SOCKET PATTERN [json|binary]
// Prints one JSON line: {"ok":true,"envelopes":[{id,value,provider,version,metadata,resolvedAt}]}
// (value as UTF-8 text) or {"ok":false,"code":"not_found","message":"..."} (the client's error code).
import { createClient, Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ResolverService } from "./gen/resolver/v1/resolver_pb.js";

const [socketPath, pattern, format = "binary"] = process.argv.slice(2);
const transport = createConnectTransport({
  baseUrl: "http://localhost",
  httpVersion: "1.1",
  useBinaryFormat: format === "binary",
  nodeOptions: { socketPath },
});
const client = createClient(ResolverService, transport);
try {
  const response = await client.getSecrets({ pattern }, { timeoutMs: 15000 });
  const envelopes = response.envelopes.map((e) => ({
    id: e.id,
    value: new TextDecoder().decode(e.value),
    provider: e.provider,
    version: e.version,
    metadata: e.metadata,
    resolvedAt: e.resolvedAt ? timestampDate(e.resolvedAt).toISOString() : null,
  }));
  console.log(JSON.stringify({ ok: true, envelopes }));
} catch (err) {
  const error = ConnectError.from(err);
  console.log(JSON.stringify({ ok: false, code: codeName(error.code), message: error.rawMessage }));
}

// Code is a numeric enum; its Connect name is the snake_case of the enum key.
function codeName(code) {
  return Code[code].replace(/[A-Z]/g, (c, i) => (i === 0 ? "" : "_") + c.toLowerCase());
}
