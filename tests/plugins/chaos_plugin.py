#!/usr/bin/env python3
"""A misbehaving provider plugin for the chaos tests. Before each answer it reads its mode from
the file given as argv[1]: ok | crash | hang | garbage | huge | wrong-id | exit-at-start | stderr.
Values are "value-of-PATH"; versions are the number in argv[1] + ".version" (default 1). Given a
second argument, it writes the names of the variables in its environment there at start, one per line."""
import json
import os
import sys
import time

mode_file = sys.argv[1]


def mode():
    try:
        with open(mode_file) as f:
            return f.read().strip()
    except OSError:
        return "ok"


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as f:
        f.write("".join(name + "\n" for name in sorted(os.environ)))

if mode() == "exit-at-start":
    sys.exit(3)

for line in sys.stdin:
    msg = json.loads(line)
    id_, method = msg.get("id"), msg.get("method")
    m = mode()
    if method != "initialize":
        if m == "crash":
            os._exit(9)
        if m == "hang":
            time.sleep(3600)
        if m == "garbage":
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
            continue
        if m == "huge":
            sys.stdout.write('{"jsonrpc":"2.0","id":%d,"result":{"x":"%s"}}\n' % (id_, "a" * (2 * 1024 * 1024)))
            sys.stdout.flush()
            continue
        if m == "wrong-id":
            send({"jsonrpc": "2.0", "id": (id_ or 0) + 1000, "result": {}})
            continue
    if m == "stderr":
        sys.stderr.write("debug: using token %s\n" % os.environ.get("CHAOS_TOKEN", "none"))
        sys.stderr.flush()
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": id_, "result": {"protocolVersion": 1, "capabilities": {"versions": True, "maxBatch": 3}}})
    elif method == "resolve":
        paths = [s["path"] for s in msg["params"]["secrets"]]
        send({"jsonrpc": "2.0", "id": id_, "result": {"secrets": [{"value": "value-of-" + p} for p in paths]}})
    elif method == "versions":
        try:
            with open(mode_file + ".version") as f:
                v = f.read().strip()
        except OSError:
            v = "1"
        send({"jsonrpc": "2.0", "id": id_, "result": {"versions": [{"version": v} for _ in msg["params"]["secrets"]]}})
    elif method == "health":
        send({"jsonrpc": "2.0", "id": id_, "result": {"ok": True}})
    elif method == "shutdown":
        send({"jsonrpc": "2.0", "id": id_, "result": {}})
        break
    else:
        send({"jsonrpc": "2.0", "id": id_, "error": {"code": -32601, "message": "no method"}})
