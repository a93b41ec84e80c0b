"""floe's OCI media types and manifests.

Manifests are built as canonical JSON (sorted keys, no whitespace) from the content alone, so the
same compiled artifacts always get the same manifest digest on every machine: a re-push is a no-op
and a signature made once stays valid.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from floe.oci.errors import ArtifactError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"

ARTIFACT_TYPE = "application/vnd.floe.compiled-artifacts.v1+json"
SIGNATURE_TYPE = "application/vnd.floe.artifact-signature.v1+json"
AUDIT_RECORD_TYPE = "application/vnd.floe.promotion-record.v1+json"

TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"
ARTIFACT_FILE = "compiled_artifacts.json"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, media_type: str, data: bytes, annotations: dict[str, str] | None = None) -> Descriptor:
        return cls(media_type, sha256_digest(data), len(data), dict(annotations or {}))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_json(cls, data: Any, where: str) -> Descriptor:
        try:
            return cls(str(data["mediaType"]), str(data["digest"]), int(data["size"]),
                       {str(k): str(v) for k, v in (data.get("annotations") or {}).items()})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArtifactError(f"{where}: malformed descriptor ({exc!r})") from exc


@dataclass(frozen=True)
class Manifest:
    """An OCI image manifest carrying one floe layer over the empty config."""

    artifact_type: str
    layers: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    config: Descriptor = field(default_factory=lambda: Descriptor.of(OCI_EMPTY, EMPTY_CONFIG))

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": self.artifact_type,
            "config": self.config.to_json(),
            "layers": [layer.to_json() for layer in self.layers],
        }
        if self.annotations:
            doc["annotations"] = dict(self.annotations)
        if self.subject is not None:
            doc["subject"] = self.subject.to_json()
        return canonical_json(doc)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Manifest:
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise ArtifactError(f"{where}: the manifest is not JSON ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
            raise ArtifactError(f"{where}: not an OCI image manifest (schemaVersion 2)")
        config = Descriptor.from_json(doc.get("config"), where)
        layers = tuple(Descriptor.from_json(layer, where) for layer in doc.get("layers") or [])
        # Older tools put the artifact type on the config instead of `artifactType`.
        artifact_type = str(doc.get("artifactType") or config.media_type)
        subject = Descriptor.from_json(doc["subject"], where) if doc.get("subject") else None
        annotations = {str(k): str(v) for k, v in (doc.get("annotations") or {}).items()}
        return cls(artifact_type, layers, annotations, subject, config)

    def single_layer(self, media_type: str, where: str) -> Descriptor:
        matching = [layer for layer in self.layers if layer.media_type == media_type]
        if len(matching) != 1:
            raise ArtifactError(
                f"{where}: expected exactly one {media_type} layer, found {len(matching)}",
                hint="this is not an artifact floe pushed; push it with `floe artifacts push`")
        return matching[0]


def artifacts_annotations(content: bytes) -> dict[str, str]:
    """Manifest annotations derived from the content only (keeps the manifest deterministic)."""
    try:
        doc = json.loads(content)
        meta = doc.get("metadata", {}) if isinstance(doc, dict) else {}
    except ValueError:
        meta = {}
    pairs = {
        VERSION: meta.get("product_version"),
        "dev.floe.product": meta.get("product_name"),
        "dev.floe.source-hash": meta.get("source_hash"),
        "dev.floe.floe-version": meta.get("floe_version"),
    }
    return {k: str(v) for k, v in pairs.items() if v}


def artifacts_manifest(content: bytes) -> Manifest:
    layer = Descriptor.of(ARTIFACT_TYPE, content, {TITLE: ARTIFACT_FILE})
    return Manifest(ARTIFACT_TYPE, (layer,), artifacts_annotations(content))
