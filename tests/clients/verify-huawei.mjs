// Checks the fake CSMS with the Huawei Cloud SDK core for Node.js (@huaweicloud/huaweicloud-sdk-core,
// pinned in package.json): its HcClient signs every request with AK/SK (SDK-HMAC-SHA256) as the
// generated service clients do, and the fake must accept those signatures, answer CSMS's shapes
// and errors, and refuse a request signed with a wrong secret key.
// argv: ENDPOINT ACCESS_KEY SECRET_KEY PROJECT_ID
import core from "@huaweicloud/huaweicloud-sdk-core";
import { ClientBuilder } from "@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js";

const { BasicCredentials } = core;
const [endpoint, ak, sk, projectId] = process.argv.slice(2);
const client = (secret) => new ClientBuilder((hc) => hc)
  .withCredential(new BasicCredentials().withAk(ak).withSk(secret).withProjectId(projectId))
  .withEndpoint(endpoint)
  .build();
const csms = client(sk);
const call = (c, method, url, pathParams = {}, data = undefined, queryParams = {}) => c.sendRequest({
  method, url, contentType: "application/json;charset=UTF-8", pathParams, queryParams, data, headers: {},
});
let checks = 0;
const check = (condition, what) => {
  if (!condition) { console.log("FAILED: " + what); process.exit(1); }
  checks++;
};
const fails = async (promise, status, code, what) => {
  try { await promise; check(false, what + " (no error)"); } catch (e) {
    check(e.httpStatusCode === status && e.errorCode === code, `${what}: got ${e.httpStatusCode} ${e.errorCode} ${e.errorMsg}`);
  }
};

const created = await call(csms, "POST", "/v1/{project_id}/secrets", {}, { name: "js-app", secret_string: "one" });
check(created.httpStatusCode === 200 && created.secret.name === "js-app" && created.secret.state === "ENABLED", "CreateSecret");
const added = await call(csms, "POST", "/v1/{project_id}/secrets/{secret_name}/versions", { secret_name: "js-app" }, { secret_string: "two" });
check(added.version_metadata.id === "v2" && added.version_metadata.version_stages.includes("SYSCURRENT"), "CreateSecretVersion makes v2 current");
const latest = await call(csms, "GET", "/v1/{project_id}/secrets/{secret_name}/versions/{version_id}", { secret_name: "js-app", version_id: "latest" });
check(latest.version.secret_string === "two" && latest.version.version_metadata.id === "v2", "ShowSecretVersion latest");
const pinned = await call(csms, "GET", "/v1/{project_id}/secrets/{secret_name}/versions/{version_id}", { secret_name: "js-app", version_id: "v1" });
check(pinned.version.secret_string === "one", "ShowSecretVersion v1");
const stage = await call(csms, "GET", "/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}", { secret_name: "js-app", stage_name: "SYSCURRENT" });
check(stage.stage.version_id === "v2" && typeof stage.stage.update_time === "number" && stage.secret_string === undefined, "ShowSecretStage SYSCURRENT, no value");
const versions = await call(csms, "GET", "/v1/{project_id}/secrets/{secret_name}/versions", { secret_name: "js-app" });
check(versions.version_metadatas.length === 2 && versions.page_info.current_count === 2, "ListSecretVersions");
const listed = await call(csms, "GET", "/v1/{project_id}/secrets", {}, undefined, { limit: "1" });
check(listed.secrets.length === 1 && listed.secrets[0].name === "js-app", "ListSecrets with a query, signed");
await fails(call(csms, "GET", "/v1/{project_id}/secrets/{secret_name}/versions/{version_id}", { secret_name: "js-none", version_id: "latest" }), 400, "CSMS.0005", "a missing secret");
await fails(call(csms, "POST", "/v1/{project_id}/secrets", {}, { name: "js-app", secret_string: "x" }), 400, "CSMS.0201", "a second CreateSecret");
await fails(call(client("not-the-secret-key"), "GET", "/v1/{project_id}/secrets", {}), 401, "APIGW.0301", "a wrong secret key");
console.log(`${checks} checks passed`);
