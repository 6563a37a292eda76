#!/usr/bin/env python3
"""Checks provider commands rendered by pgsage against the providers' own CLIs.

Reads a JSON list of commands (strings, as pgsage prints them, with <placeholders>) on
stdin and writes, for each, a JSON object: {"command", "ok", "error", "parameters"}:

- `az …`: run through the real Azure CLI's parser (azure-cli from PyPI). Without a login,
  a command whose arguments parse fails with "Please run 'az login'" (exit 1); a syntax
  error is exit 2 ("unrecognized arguments", "the following arguments are required").
- `aws rds …`: run through the real AWS CLI (awscli from PyPI) against an endpoint that
  refuses connections, with --debug: the request it would have sent shows how the
  shorthand `--parameters` were parsed (name, value, apply method), which are returned in
  `parameters`; ApplyMethod is checked against the RDS API model's enum.
- `gcloud sql instances patch` / `gcloud alloydb instances update`: gcloud is not on
  PyPI, so the command is checked against its documented grammar
  (https://cloud.google.com/sdk/gcloud/reference/sql/instances/patch and `gcloud topic
  escaping` for the `^:^` delimiter); the flags are returned in `parameters`.

Placeholders are replaced by dummy values before running. The CLIs are found next to
this interpreter (a virtualenv with awscli and azure-cli installed).
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

BIN = os.path.dirname(os.path.abspath(sys.executable))
PLACEHOLDERS = {
    "<rg>": "rg-test",
    "<server>": "server-test",
    "<parameter-group>": "pg-test",
    "<cluster-parameter-group>": "cpg-test",
    "<instance>": "instance-test",
    "<cluster>": "cluster-test",
    "<region>": "us-central1",
}
NAME = re.compile(r"^[a-z_][a-z0-9_.]*$")


def fill(command):
    for k, v in PLACEHOLDERS.items():
        command = command.replace(k, v)
    # The flags the instance has now: none on the test instance.
    command = command.replace("<flags set now>:", "").replace("<flags set now>,", "")
    return command


def check_az(argv):
    env = dict(os.environ, AZURE_CONFIG_DIR=tempfile.mkdtemp(prefix="az-"),
               AZURE_CORE_COLLECT_TELEMETRY="false")
    p = subprocess.run([os.path.join(BIN, "az")] + argv[1:], capture_output=True,
                       text=True, env=env, timeout=120)
    out = p.stdout + p.stderr
    if p.returncode == 1 and "az login" in out:
        params = {}
        if "--name" in argv and "--value" in argv:
            params[argv[argv.index("--name") + 1]] = argv[argv.index("--value") + 1]
        return True, "", params
    return False, out.strip()[-500:], {}


def check_aws(argv):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    p = subprocess.run([os.path.join(BIN, "aws")] + argv[1:] +
                       ["--endpoint-url", "http://127.0.0.1:9", "--debug"],
                       capture_output=True, text=True, env=env, timeout=120)
    out = p.stdout + p.stderr
    if "Could not connect to the endpoint URL" not in out:
        return False, out.strip()[-800:], {}
    params = {}
    m = re.search(r"'body': (\{.*?\}), 'url'", out)
    if m:
        body = eval(m.group(1), {"__builtins__": {}})  # a dict literal from botocore's log
        import botocore.session
        enum = botocore.session.get_session().get_service_model("rds") \
            .shape_for("ApplyMethod").enum
        i = 1
        while f"Parameters.Parameter.{i}.ParameterName" in body:
            pre = f"Parameters.Parameter.{i}."
            method = body.get(pre + "ApplyMethod")
            if method not in enum:
                return False, f"ApplyMethod {method!r} is not one of {enum}", {}
            params[body[pre + "ParameterName"]] = {"value": body.get(pre + "ParameterValue"),
                                                  "apply_method": method}
            i += 1
    return True, "", params


def check_gcloud(argv):
    sql = argv[:4] == ["gcloud", "sql", "instances", "patch"]
    alloy = argv[:4] == ["gcloud", "alloydb", "instances", "update"]
    if not (sql or alloy) or len(argv) < 6:
        return False, "not `gcloud sql instances patch INSTANCE` nor `gcloud alloydb instances update INSTANCE`", {}
    if argv[4].startswith("-"):
        return False, "the instance comes first", {}
    flags = [a for a in argv[5:] if a.startswith("--database-flags=")]
    if len(flags) != 1:
        return False, "one --database-flags=FLAG=VALUE,… argument", {}
    if alloy and not {"--cluster", "--region"} <= {a.split("=")[0] for a in argv[5:]}:
        return False, "alloydb needs --cluster and --region", {}
    value = flags[0][len("--database-flags="):]
    delimiter = ","
    m = re.match(r"^\^(.)\^", value)
    if m:
        delimiter, value = m.group(1), value[3:]
    params = {}
    for item in value.split(delimiter):
        if "=" not in item:
            return False, f"{item!r} is not FLAG=VALUE", {}
        k, v = item.split("=", 1)
        if not NAME.match(k):
            return False, f"{k!r} is not a flag name", {}
        params[k] = v
    return True, "", params


def main():
    results = []
    for command in json.load(sys.stdin):
        argv = shlex.split(fill(command))
        try:
            check = {"az": check_az, "aws": check_aws, "gcloud": check_gcloud}[argv[0]]
            ok, error, params = check(argv)
        except Exception as e:  # a tool missing or failing: reported, never a pass
            ok, error, params = False, f"{type(e).__name__}: {e}", {}
        results.append({"command": command, "ok": ok, "error": error, "parameters": params})
    json.dump(results, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
