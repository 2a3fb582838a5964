#!/usr/bin/python3
"""Checks the fake Vault with the official Python client (Debian's python3-hvac): what DSO relies
on must behave as hvac expects from a real Vault.
argv: URL ROOT_TOKEN ROLE_ID SECRET_ID AWS_ACCESS_KEY AWS_SECRET_KEY IAM_ROLE IAM_SERVER_ID."""
import sys

import hvac
import hvac.exceptions

url, token, role_id, secret_id, access_key, secret_key, iam_role, server_id = sys.argv[1:9]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        print("FAILED: " + what)
        sys.exit(1)
    checks += 1


client = hvac.Client(url=url, token=token)
check(client.is_authenticated(), "the root token authenticates (lookup-self)")
check(not client.sys.read_health_status(method="GET").get("sealed", True), "sys/health says unsealed")

written = client.secrets.kv.v2.create_or_update_secret(path="hvac/app", secret={"user": "u1", "password": "p1"}, mount_point="secret")
check(written["data"]["version"] == 1, "a first write makes version 1")
client.secrets.kv.v2.create_or_update_secret(path="hvac/app", secret={"user": "u1", "password": "p2"}, mount_point="secret")
read = client.secrets.kv.v2.read_secret_version(path="hvac/app", mount_point="secret")
check(read["data"]["data"]["password"] == "p2" and read["data"]["metadata"]["version"] == 2, "read returns the latest version")
old = client.secrets.kv.v2.read_secret_version(path="hvac/app", version=1, mount_point="secret")
check(old["data"]["data"]["password"] == "p1", "a pinned version reads the old value")
meta = client.secrets.kv.v2.read_secret_metadata(path="hvac/app", mount_point="secret")
check(meta["data"]["current_version"] == 2 and set(meta["data"]["versions"]) == {"1", "2"}, "metadata lists versions")

try:
    client.secrets.kv.v2.read_secret_version(path="hvac/missing", mount_point="secret")
    check(False, "a missing secret raises")
except hvac.exceptions.InvalidPath:
    check(True, "")

try:
    hvac.Client(url=url, token="hvs.not-a-token").secrets.kv.v2.read_secret_version(path="hvac/app", mount_point="secret")
    check(False, "a bad token raises")
except hvac.exceptions.Forbidden:
    check(True, "")

client.secrets.kv.v1.create_or_update_secret(path="hvac/v1", secret={"value": "one"}, mount_point="kv")
check(client.secrets.kv.v1.read_secret(path="hvac/v1", mount_point="kv")["data"]["value"] == "one", "KV v1 round trip")

approle = hvac.Client(url=url)
login = approle.auth.approle.login(role_id=role_id, secret_id=secret_id)
check(login["auth"]["client_token"] and approle.is_authenticated(), "AppRole login gives a working token")
check(approle.auth.token.renew_self()["auth"]["renewable"], "the token renews")

# AWS IAM auth: hvac signs sts:GetCallerIdentity with its own SigV4 code; the fake must accept
# exactly that, and refuse a wrong secret key, a missing server-id header and an unbound role.
iam = hvac.Client(url=url)
login = iam.auth.aws.iam_login(access_key, secret_key, header_value=server_id, role=iam_role)
check(login["auth"]["client_token"] and iam.is_authenticated(), "AWS IAM login gives a working token")
check(iam.secrets.kv.v2.read_secret_version(path="hvac/app", mount_point="secret")["data"]["data"]["password"] == "p2", "the IAM token reads KV")
for what, kwargs in [("a wrong secret key", dict(secret_key="wrong" + secret_key, header_value=server_id, role=iam_role)),
                     ("no server-id header", dict(secret_key=secret_key, role=iam_role)),
                     ("an unknown role", dict(secret_key=secret_key, header_value=server_id, role="no-such-role"))]:
    try:
        hvac.Client(url=url).auth.aws.iam_login(access_key, use_token=False, **kwargs)
        check(False, what + " is refused")
    except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden):
        check(True, "")

print("%d checks passed" % checks)
