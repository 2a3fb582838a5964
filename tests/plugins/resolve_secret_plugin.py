#!/usr/bin/env python3
"""A provider plugin written for the original project's protocol: one JSON-RPC 2.0 request per line
on stdin, method ResolveSecret with params {"path", "config"}, answered {"result": {"value"}} on
stdout. It knows no other method. Values come from the JSON file named by argv[1]; each request's
method and params are appended to argv[2] (when given) so a test can see what the host sent."""
import json
import sys

values_file = sys.argv[1]
seen_file = sys.argv[2] if len(sys.argv) > 2 else None

for line in sys.stdin:
    request = json.loads(line)
    answer = {"jsonrpc": "2.0", "id": request.get("id")}
    if seen_file:
        with open(seen_file, "a") as seen:
            seen.write(json.dumps({"method": request.get("method"), "params": request.get("params")}) + "\n")
    if request.get("method") != "ResolveSecret":
        answer["error"] = {"code": -32601, "message": "method not found"}
    else:
        params = request.get("params") or {}
        with open(values_file) as f:
            values = json.load(f)
        path = params.get("path")
        if path in values:
            answer["result"] = {"value": values[path]}
        else:
            answer["error"] = {"code": 404, "message": "secret not found: " + str(path)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
