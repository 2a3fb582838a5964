#!/usr/bin/env python3
"""A DSO provider plugin in plain Python (protocol version 1, docs/providers.md).

Serves secrets from a JSON file named by the config key "file" (path -> value). It is an
example of the protocol, not a secure store: keep real secrets in a real provider.
Run the conformance kit against it:

    docker dso provider test --plugin-config cfg.json --secret app/db -- python3 provider.py
"""
import hashlib
import json
import sys

PROTOCOL_VERSION = 1
MAX_LINE = 1024 * 1024


def answer(id_, result=None, error=None):
    message = {"jsonrpc": "2.0", "id": id_}
    if error is not None:
        message["error"] = {"code": error[0], "message": error[1]}
    else:
        message["result"] = result
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def requests_of(params):
    if not isinstance(params, dict) or not isinstance(params.get("secrets"), list):
        raise ValueError("params.secrets must be a list")
    for item in params["secrets"]:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"]:
            raise ValueError("each secret needs a path")
    return params["secrets"]


def main():
    config = None
    for line in sys.stdin.buffer:
        if len(line) > MAX_LINE + 1:
            answer(None, error=(-32600, "message over 1 MiB"))
            return 2
        try:
            message = json.loads(line)
            if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
                raise ValueError("not a JSON-RPC 2.0 request")
        except ValueError as e:
            answer(None, error=(-32700, str(e)))
            continue
        id_, method, params = message.get("id"), message["method"], message.get("params")
        try:
            if method == "initialize":
                if params.get("protocolVersion") != PROTOCOL_VERSION:
                    answer(id_, error=(-32602, "unsupported protocol version"))
                    continue
                config = params.get("config") or {}
                answer(id_, {"protocolVersion": PROTOCOL_VERSION, "plugin": "example-json-file/1",
                             "capabilities": {"versions": True, "maxBatch": 50}})
            elif method == "shutdown":
                answer(id_, {})
                return 0
            elif config is None:
                answer(id_, error=(-32003, "initialize first"))
            elif method == "resolve":
                store = load(config["file"])
                out = []
                for item in requests_of(params):
                    if item["path"] in store:
                        out.append({"value": store[item["path"]]})
                    else:
                        out.append({"error": "no secret " + item["path"], "transient": False})
                answer(id_, {"secrets": out})
            elif method == "versions":
                store = load(config["file"])
                out = []
                for item in requests_of(params):
                    if item["path"] in store:
                        # A digest stands in for a version id here only because the file has none.
                        out.append({"version": hashlib.sha256(store[item["path"]].encode()).hexdigest()[:16]})
                    else:
                        out.append({"error": "no secret " + item["path"], "transient": False})
                answer(id_, {"versions": out})
            elif method == "health":
                load(config["file"])
                answer(id_, {"ok": True, "message": "file readable"})
            else:
                answer(id_, error=(-32601, "no method " + method))
        except ValueError as e:
            answer(id_, error=(-32602, str(e)))
        except OSError as e:
            answer(id_, error=(-32001, "cannot read the store: " + e.strerror))
    return 0


if __name__ == "__main__":
    sys.exit(main())
