"""An in-memory OCI distribution registry mounted as a ``requests`` transport adapter.

Just enough of the v2 API (blobs, monolithic uploads, manifests, tags, basic auth) for the client's
logic to run in unit tests without a process; the e2e suite runs the same flows against the real
registry. ``tamper_blob`` edits stored bytes in place, like someone with access to the storage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

URL = "http://registry.test:5000"
_PATH = re.compile(r"^/v2/(?P<repo>.+?)/(?P<kind>blobs|manifests|tags)/(?P<rest>.*)$")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeRegistry(BaseAdapter):
    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        super().__init__()
        self.expected = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user is not None else None
        )
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, bytes] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.uploads: set[str] = set()
        self.requests: list[tuple[str, str]] = []

    # -- what tests use to play the attacker ----------------------------------------------------------
    def tamper_blob(self, digest: str, data: bytes) -> None:
        self.blobs[digest] = data

    def force_tag(self, repo: str, tag: str, manifest: bytes) -> str:
        """Point a tag at a manifest the way a raw HTTP client could (no immutability check)."""
        digest = _digest(manifest)
        self.manifests[digest] = manifest
        self.tags.setdefault(repo, {})[tag] = digest
        return digest

    # -- the adapter ------------------------------------------------------------------------------------
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlparse(request.url or "")
        method = request.method or "GET"
        self.requests.append((method, url.path))
        if self.expected is not None and request.headers.get("Authorization") != self.expected:
            return self._reply(request, 401, {"errors": [{"code": "UNAUTHORIZED"}]},
                               {"Www-Authenticate": 'Basic realm="fake"'})
        if url.path == "/v2/":
            return self._reply(request, 200, {})
        m = _PATH.match(url.path)
        if not m:
            return self._reply(request, 404, {"errors": [{"code": "NOT_FOUND"}]})
        repo, kind, rest = m["repo"], m["kind"], m["rest"]
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        if kind == "blobs":
            return self._blobs(request, method, repo, rest, url.query, body)
        if kind == "manifests":
            return self._manifests(request, method, repo, rest, body)
        if repo not in self.tags:
            return self._reply(request, 404, {"errors": [{"code": "NAME_UNKNOWN", "message": "repository unknown"}]})
        return self._reply(request, 200, {"name": repo, "tags": sorted(self.tags[repo])})

    def _blobs(self, request: requests.PreparedRequest, method: str, repo: str, rest: str, query: str,
               body: bytes) -> requests.Response:
        if method == "POST" and rest == "uploads/":
            upload = uuid.uuid4().hex
            self.uploads.add(upload)
            return self._reply(request, 202, None, {"Location": f"/v2/{repo}/blobs/uploads/{upload}"})
        if method == "PUT" and rest.startswith("uploads/"):
            upload = rest.removeprefix("uploads/")
            digest = parse_qs(query)["digest"][0]
            if upload not in self.uploads or _digest(body) != digest:
                return self._reply(request, 400, {"errors": [{"code": "DIGEST_INVALID"}]})
            self.blobs[digest] = body
            return self._reply(request, 201, None, {"Docker-Content-Digest": digest})
        data = self.blobs.get(rest)
        if data is None:
            return self._reply(request, 404, {"errors": [{"code": "BLOB_UNKNOWN"}]})
        return self._reply(request, 200, b"" if method == "HEAD" else data, {"Docker-Content-Digest": rest})

    def _manifests(self, request: requests.PreparedRequest, method: str, repo: str, ref: str,
                   body: bytes) -> requests.Response:
        if method == "PUT":
            doc = json.loads(body)
            missing = [d["digest"] for d in [doc["config"], *doc["layers"]] if d["digest"] not in self.blobs]
            if missing:
                return self._reply(request, 400, {"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "detail": missing}]})
            digest = self.force_tag(repo, ref, body) if not ref.startswith("sha256:") else _digest(body)
            self.manifests[digest] = body
            return self._reply(request, 201, None, {"Docker-Content-Digest": digest})
        tags = self.tags.get(repo, {})
        digest = ref if ref.startswith("sha256:") else tags.get(ref)
        if digest is None or digest not in self.manifests:
            return self._reply(request, 404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        data = self.manifests[digest]
        return self._reply(request, 200, b"" if method == "HEAD" else data,
                           {"Docker-Content-Digest": digest,
                            "Content-Type": "application/vnd.oci.image.manifest.v1+json"})

    def _reply(self, request: requests.PreparedRequest, status: int, body: Any,
               headers: dict[str, str] | None = None) -> requests.Response:
        r = requests.Response()
        r.status_code = status
        r._content = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        r.headers = CaseInsensitiveDict(headers or {})
        r.url = request.url or ""
        r.request = request
        r.reason = {200: "OK", 201: "Created", 202: "Accepted", 401: "Unauthorized", 404: "Not Found"}.get(status, "")
        return r

    def close(self) -> None:
        pass
