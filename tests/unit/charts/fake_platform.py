"""In-process fakes of the Polaris REST/management API and an S3 endpoint, just deep enough to
exercise the bootstrap script: state, auth, 409 on duplicates and Polaris' 500 on duplicate grants.

Each fake records the requests it served and can be told to misbehave (``faults``).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROOT_ID, ROOT_SECRET = "rootclient", "rootsecret"


@dataclass
class Fault:
    method: str
    path: str  # regex, full match
    status: int
    times: int = 1_000_000
    body: bytes = b'{"error": {"message": "injected fault"}}'


class _Server:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_impl": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fault(self, method: str, path: str) -> Fault | None:
        for f in self.faults:
            if f.method == method and re.fullmatch(f.path, path) and f.times > 0:
                f.times -= 1
                return f
        return None

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    server_impl: _Server

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _serve(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        impl = self.server_impl
        with impl.lock:
            impl.requests.append((self.command, path))
            fault = impl.fault(self.command, path)
            status, reply = (
                (fault.status, fault.body) if fault else impl.handle(self.command, path, query, self.headers, body)
            )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class FakeS3(_Server):
    def __init__(self, access_key: str, secret_key: str) -> None:
        super().__init__()
        self.access_key = access_key
        self.buckets: set[str] = set()
        self.objects: dict[str, bytes] = {}

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> tuple[int, bytes]:
        if path == "/" and method == "GET":
            return 403, b"<Error><Code>AccessDenied</Code></Error>"
        auth = headers.get("Authorization", "")
        if not auth.startswith(f"AWS4-HMAC-SHA256 Credential={self.access_key}/") or "Signature=" not in auth:
            return 403, b"<Error><Code>InvalidAccessKeyId</Code></Error>"
        bucket, _, key = path.lstrip("/").partition("/")
        if not key:
            if method == "PUT":
                if bucket in self.buckets:
                    return 409, b"<Error><Code>BucketAlreadyOwnedByYou</Code></Error>"
                self.buckets.add(bucket)
                return 200, b""
            if method == "HEAD":
                return (200, b"") if bucket in self.buckets else (404, b"")
        elif bucket in self.buckets:
            if method == "PUT":
                self.objects[path] = body
                return 200, b""
            if method == "GET":
                return (200, self.objects[path]) if path in self.objects else (404, b"")
            if method == "DELETE":
                self.objects.pop(path, None)
                return 204, b""
        return 404, b"<Error><Code>NoSuchBucket</Code></Error>"


@dataclass
class PolarisState:
    catalogs: dict[str, dict[str, Any]] = field(default_factory=dict)
    principals: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {clientId, clientSecret}
    principal_roles: set[str] = field(default_factory=set)
    principal_assignments: dict[str, set[str]] = field(default_factory=dict)
    catalog_roles: dict[str, set[str]] = field(default_factory=dict)
    grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    catalog_role_assignments: dict[tuple[str, str], set[str]] = field(default_factory=dict)


class FakePolaris(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.state = PolarisState()
        self.tokens: dict[str, str] = {}  # token -> principal name ("root" for root)
        self.ready = True

    # -- helpers
    def _who(self, headers: Any) -> str | None:
        auth = headers.get("Authorization", "")
        return self.tokens.get(auth.removeprefix("Bearer "))

    def _can_use(self, who: str, catalog: str) -> bool:
        if who == "root":
            return True
        for role in self.state.principal_assignments.get(who, set()):
            if self.state.catalog_role_assignments.get((role, catalog)):
                return True
        return False

    @staticmethod
    def _json(status: int, payload: Any) -> tuple[int, bytes]:
        return status, json.dumps(payload).encode()

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> tuple[int, bytes]:
        st = self.state
        if path == "/q/health/ready":
            return self._json(200 if self.ready else 503, {"status": "UP" if self.ready else "DOWN"})
        if path == "/api/catalog/v1/oauth/tokens" and method == "POST":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            who = None
            if (form.get("client_id"), form.get("client_secret")) == (ROOT_ID, ROOT_SECRET):
                who = "root"
            for name, creds in st.principals.items():
                if (form.get("client_id"), form.get("client_secret")) == (creds["clientId"], creds["clientSecret"]):
                    who = name
            if who is None:
                return self._json(401, {"error": "unauthorized_client"})
            token = secrets.token_hex(8)
            self.tokens[token] = who
            return self._json(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})

        who = self._who(headers)
        if who is None:
            return self._json(401, {"error": {"message": "not authorized"}})

        if path == "/api/catalog/v1/config":
            warehouse = query.get("warehouse", "")
            if warehouse not in st.catalogs:
                return self._json(404, {"error": {"message": f"no catalog {warehouse}"}})
            if not self._can_use(who, warehouse):
                return self._json(403, {"error": {"message": "forbidden"}})
            return self._json(200, {"defaults": {}, "overrides": {"prefix": warehouse}})
        m = re.fullmatch(r"/api/catalog/v1/([^/]+)/namespaces", path)
        if m:
            if m[1] not in st.catalogs or not self._can_use(who, m[1]):
                return self._json(403, {"error": {"message": "forbidden"}})
            return self._json(200, {"namespaces": []})

        if not path.startswith("/api/management/v1/"):
            return self._json(404, {})
        if who != "root":
            return self._json(403, {"error": {"message": "not root"}})
        return self._management(method, path.removeprefix("/api/management/v1"), json.loads(body or b"null"))

    def _management(self, method: str, path: str, payload: Any) -> tuple[int, bytes]:
        st = self.state
        j = self._json
        if path == "/catalogs" and method == "POST":
            cat = payload["catalog"]
            if cat["name"] in st.catalogs:
                return j(409, {"error": {"message": "exists"}})
            st.catalogs[cat["name"]] = cat
            st.catalog_roles[cat["name"]] = {"catalog_admin"}
            return j(201, cat)
        if m := re.fullmatch(r"/catalogs/([^/]+)", path):
            return j(200, st.catalogs[m[1]]) if m[1] in st.catalogs else j(404, {})
        if path == "/principals" and method == "POST":
            name = payload["principal"]["name"]
            if name in st.principals:
                return j(409, {})
            st.principals[name] = {"clientId": secrets.token_hex(8), "clientSecret": secrets.token_hex(16)}
            return j(201, {"principal": {"name": name}, "credentials": st.principals[name]})
        if m := re.fullmatch(r"/principals/([^/]+)", path):
            return (
                j(200, {"name": m[1], "clientId": st.principals[m[1]]["clientId"]})
                if m[1] in st.principals
                else j(404, {})
            )
        if (m := re.fullmatch(r"/principals/([^/]+)/reset", path)) and method == "POST":
            if m[1] not in st.principals:
                return j(404, {})
            st.principals[m[1]] = {"clientId": payload["clientId"], "clientSecret": payload["clientSecret"]}
            return j(200, {"principal": {"name": m[1]}, "credentials": st.principals[m[1]]})
        if path == "/principal-roles" and method == "POST":
            name = payload["principalRole"]["name"]
            if name in st.principal_roles:
                return j(409, {})
            st.principal_roles.add(name)
            return j(201, {})
        if m := re.fullmatch(r"/principal-roles/([^/]+)", path):
            return j(200, {"name": m[1]}) if m[1] in st.principal_roles else j(404, {})
        if m := re.fullmatch(r"/principals/([^/]+)/principal-roles", path):
            if method == "PUT":
                st.principal_assignments.setdefault(m[1], set()).add(payload["principalRole"]["name"])
                return j(201, {})
            return j(200, {"roles": [{"name": n} for n in sorted(st.principal_assignments.get(m[1], set()))]})
        if m := re.fullmatch(r"/catalogs/([^/]+)/catalog-roles", path):
            roles = st.catalog_roles.setdefault(m[1], set())
            name = payload["catalogRole"]["name"]
            if name in roles:
                return j(409, {})
            roles.add(name)
            return j(201, {})
        if m := re.fullmatch(r"/catalogs/([^/]+)/catalog-roles/([^/]+)", path):
            return j(200, {"name": m[2]}) if m[2] in st.catalog_roles.get(m[1], set()) else j(404, {})
        if m := re.fullmatch(r"/catalogs/([^/]+)/catalog-roles/([^/]+)/grants", path):
            held = st.grants.setdefault((m[1], m[2]), set())
            if method == "PUT":
                privilege = payload["grant"]["privilege"]
                if privilege in held:  # what Polaris really does on a duplicate grant
                    return j(500, {"error": {"message": "duplicate key value violates unique constraint"}})
                held.add(privilege)
                return j(201, {})
            return j(200, {"grants": [{"type": "catalog", "privilege": p} for p in sorted(held)]})
        if m := re.fullmatch(r"/principal-roles/([^/]+)/catalog-roles/([^/]+)", path):
            held = st.catalog_role_assignments.setdefault((m[1], m[2]), set())
            if method == "PUT":
                held.add(payload["catalogRole"]["name"])
                return j(201, {})
            return j(200, {"roles": [{"name": n} for n in sorted(held)]})
        return j(404, {"error": {"message": f"fake has no {method} {path}"}})


@contextmanager
def running(*servers: _Server) -> Iterator[None]:
    for s in servers:
        s.thread.start()
    try:
        yield
    finally:
        for s in servers:
            s.httpd.shutdown()
            s.httpd.server_close()
