// Checks the fake Secrets Manager with the official AWS SDK for JavaScript v3
// (@aws-sdk/client-secrets-manager, pinned in package.json): values, versions, batches and the
// documented errors must be what the SDK expects, and a request with a bad signature is refused.
// argv: ENDPOINT ACCESS_KEY SECRET_KEY
import {
  SecretsManagerClient, CreateSecretCommand, PutSecretValueCommand, GetSecretValueCommand,
  BatchGetSecretValueCommand, DescribeSecretCommand, ListSecretVersionIdsCommand,
} from "@aws-sdk/client-secrets-manager";

const [endpoint, accessKeyId, secretAccessKey] = process.argv.slice(2);
const client = (secret) => new SecretsManagerClient({
  endpoint, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId, secretAccessKey: secret },
});
const sm = client(secretAccessKey);
let checks = 0;
const check = (condition, what) => {
  if (!condition) { console.log("FAILED: " + what); process.exit(1); }
  checks++;
};
const fails = async (promise, name, what) => {
  try { await promise; check(false, what + " (no error)"); } catch (e) { check(e.name === name, `${what}: got ${e.name}`); }
};

const created = await sm.send(new CreateSecretCommand({ Name: "js/app", SecretString: "v1" }));
check(created.VersionId && created.Name === "js/app", "CreateSecret returns a version id");
const put = await sm.send(new PutSecretValueCommand({ SecretId: "js/app", SecretString: "v2" }));
check(put.VersionId !== created.VersionId && put.VersionStages.includes("AWSCURRENT"), "PutSecretValue makes a new current version");
const current = await sm.send(new GetSecretValueCommand({ SecretId: "js/app" }));
check(current.SecretString === "v2" && current.VersionId === put.VersionId && current.CreatedDate instanceof Date, "GetSecretValue reads the current version");
const pinned = await sm.send(new GetSecretValueCommand({ SecretId: "js/app", VersionId: created.VersionId }));
check(pinned.SecretString === "v1", "GetSecretValue with VersionId reads that version");
const described = await sm.send(new DescribeSecretCommand({ SecretId: "js/app" }));
check(described.VersionIdsToStages[put.VersionId].includes("AWSCURRENT") && described.LastChangedDate instanceof Date, "DescribeSecret maps version ids to stages");
const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "js/app" }));
check(listed.Versions.length === 2, "ListSecretVersionIds lists both versions");
const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ["js/app", "js/missing"] }));
check(batch.SecretValues.length === 1 && batch.SecretValues[0].SecretString === "v2", "BatchGetSecretValue returns the values found");
check(batch.Errors.length === 1 && batch.Errors[0].ErrorCode === "ResourceNotFoundException", "BatchGetSecretValue reports the missing one");
await fails(sm.send(new GetSecretValueCommand({ SecretId: "js/missing" })), "ResourceNotFoundException", "a missing secret");
await fails(sm.send(new CreateSecretCommand({ Name: "js/app", SecretString: "x" })), "ResourceExistsException", "a second CreateSecret");
await fails(client("not-the-secret-key").send(new GetSecretValueCommand({ SecretId: "js/app" })), "InvalidSignatureException", "a bad signature");
console.log(`${checks} checks passed`);
