#!/usr/bin/env python3
"""A small fake of what `az login --identity` talks to, for offline tests.

Two listeners on 127.0.0.1 (Python stdlib only):

* HTTP: the managed-identity token endpoint (IMDS,
  `/metadata/identity/oauth2/token`, point the CLI at it with
  AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:PORT) and the cloud
  metadata document (`/metadata/endpoints`, for ARM_CLOUD_METADATA_URL).
* HTTPS (self-signed certificate for IP 127.0.0.1, trust it with
  REQUESTS_CA_BUNDLE): the two management-API calls the CLI makes while
  logging in, `GET /subscriptions` (no subscriptions) and `GET /tenants`.

State lives in --state-dir:
* `ports.json` is written once both listeners are up: {"http": P, "https": P}.
* `tokens.jsonl` gets one JSON line per issued token: {"access_token", "resource"}.
* while a file named `identity-fail` exists, the identity endpoint answers
  HTTP 400 as IMDS does for a VM without that identity.
* `ca.pem` / `key.pem`: the certificate (made with openssl on first start).

Usage: fake_azure.py --state-dir DIR
"""

import argparse
import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0b6d5d0e-6b5f-4c39-9a54-3f5a1c1f0c11"
PRINCIPAL = "3c2f1d7e-8a4b-4c5d-9e6f-7a8b9c0d1e2f"
DEFAULT_RESOURCE = "https://management.core.windows.net/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(resource: str) -> str:
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "kid": "fake-key"}
    claims = {
        "aud": resource,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": now,
        "nbf": now,
        "exp": now + 86400,
        "aio": uuid.uuid4().hex,
        "appid": CLIENT_ID,
        "appidacr": "2",
        "idp": f"https://sts.windows.net/{TENANT}/",
        "oid": PRINCIPAL,
        "sub": PRINCIPAL,
        "tid": TENANT,
        "uti": uuid.uuid4().hex,
        "ver": "1.0",
        "xms_mirid": "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/oidc/"
        "providers/Microsoft.Compute/virtualMachines/oidc-vm",
    }
    sig = os.urandom(256)
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(claims).encode()),
            b64url(sig),
        ]
    )


class State:
    def __init__(self, d: str):
        self.dir = d
        self.lock = threading.Lock()
        self.https_port = 0
        self.http_port = 0

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def record(self, line: dict) -> None:
        with self.lock, open(self.path("tokens.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")


def metadata(state: State) -> list:
    arm = f"https://127.0.0.1:{state.https_port}/"
    login = f"http://127.0.0.1:{state.http_port}/"
    return [
        {
            "name": "AzureCloud",
            "portal": "https://portal.azure.com",
            "authentication": {
                "loginEndpoint": login,
                "audiences": [DEFAULT_RESOURCE, "https://management.azure.com/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "media": "https://rest.media.azure.net",
            "graphAudience": "https://graph.windows.net/",
            "graph": "https://graph.windows.net/",
            "suffixes": {
                "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                "acrLoginServer": "azurecr.io",
                "sqlServerHostname": "database.windows.net",
                "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
                "keyVaultDns": "vault.azure.net",
                "storage": "core.windows.net",
                "azureFrontDoorEndpointSuffix": "azurefd.net",
            },
            "batch": "https://batch.core.windows.net/",
            "resourceManager": arm,
            "vmImageAliasDoc": "https://127.0.0.1/none.json",
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "sqlManagement": "https://management.core.windows.net:8443/",
            "gallery": "https://gallery.azure.com/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
        }
    ]


def make_handler(state: State, tls: bool):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # keep test output quiet
            if os.environ.get("FAKE_AZURE_VERBOSE"):
                sys.stderr.write("fake_azure: " + (fmt % args) + "\n")

        def send_json(self, code: int, body) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urlparse(self.path)
            q = parse_qs(u.query)
            if not tls and u.path == "/metadata/identity/oauth2/token":
                return self.token(q)
            if not tls and u.path == "/metadata/endpoints":
                return self.send_json(200, metadata(state))
            if tls and u.path == "/subscriptions":
                return self.send_json(200, {"value": []})
            if tls and u.path == "/tenants":
                return self.send_json(
                    200,
                    {
                        "value": [
                            {
                                "id": f"/tenants/{TENANT}",
                                "tenantId": TENANT,
                                "tenantCategory": "Home",
                                "displayName": "Fake Tenant",
                                "defaultDomain": "fake.onmicrosoft.com",
                            }
                        ]
                    },
                )
            return self.send_json(404, {"error": {"code": "NotFound", "message": self.path}})

        def token(self, q):
            if self.headers.get("Metadata", "").lower() != "true":
                return self.send_json(
                    400, {"error": "invalid_request", "error_description": "Required metadata header not specified"}
                )
            if os.path.exists(state.path("identity-fail")):
                return self.send_json(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Identity not found",
                    },
                )
            resource = (q.get("resource") or [DEFAULT_RESOURCE])[0]
            tok = make_jwt(resource)
            now = int(time.time())
            state.record({"access_token": tok, "resource": resource})
            self.send_json(
                200,
                {
                    "access_token": tok,
                    "client_id": CLIENT_ID,
                    "expires_in": "86399",
                    "expires_on": str(now + 86399),
                    "ext_expires_in": "86399",
                    "not_before": str(now),
                    "resource": resource,
                    "token_type": "Bearer",
                },
            )

    return Handler


def ensure_cert(state: State) -> None:
    cert, key = state.path("ca.pem"), state.path("key.pem")
    if os.path.exists(cert) and os.path.exists(key):
        return
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", key, "-out", cert,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    state = State(args.state_dir)
    ensure_cert(state)
    http = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state, False))
    https = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state, True))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(state.path("ca.pem"), state.path("key.pem"))
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    state.http_port = http.server_address[1]
    state.https_port = https.server_address[1]
    threading.Thread(target=https.serve_forever, daemon=True).start()
    tmp = state.path("ports.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"http": state.http_port, "https": state.https_port}, f)
    os.rename(tmp, state.path("ports.json"))
    http.serve_forever()


if __name__ == "__main__":
    main()
