"""Tag, repository and reference grammar: what reaches a registry URL (or a shell script) is safe."""

from __future__ import annotations

import pytest

from floe.oci.errors import InvalidReferenceError
from floe.oci.tags import (
    ArtifactRef,
    environment_tag,
    is_immutable,
    promotion_tag,
    reserved_reason,
    signature_tag,
    validate_repository,
    validate_tag,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("tag", ["v1.0.0", "1.2.3", "v1.0.0-alpha", "v1.0.0-rc.1", "latest", "staging-latest",
                                 "feature_branch-12345", "_x", "a" * 128])
def test_valid_tags(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize(("tag", "named"), [
    ("v1.0.0;rm -rf /", "';'"),
    ("v1&&true", "'&'"),
    ("v1|cat", "'|'"),
    ("v1$(id)", "'$'"),
    ("v1`id`", "'`'"),
    ("v1\nv2", "'\\n'"),
    ("v1 v2", "' '"),
    ("v1\t", "'\\t'"),
    ("v1>out", "'>'"),
    ("v1/../x", "'/'"),
    ("-v1", "'-'"),
    (".v1", "'.'"),
])
def test_rejected_tags_name_the_offending_character(tag: str, named: str) -> None:
    with pytest.raises(InvalidReferenceError) as exc:
        validate_tag(tag)
    assert named in str(exc.value)
    assert "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}" in str(exc.value)


def test_shell_metacharacters_and_whitespace_are_named_as_such() -> None:
    with pytest.raises(InvalidReferenceError, match="shell metacharacter"):
        validate_tag("v1;id")
    with pytest.raises(InvalidReferenceError, match="whitespace/newline"):
        validate_tag("v1\n")


def test_empty_and_overlong_tags() -> None:
    with pytest.raises(InvalidReferenceError, match="tag is empty"):
        validate_tag("")
    with pytest.raises(InvalidReferenceError, match="129 characters long; OCI tags have at most 128"):
        validate_tag("a" * 129)


def test_tag_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="tag"):
        validate_tag("a;b")


@pytest.mark.parametrize("repo", ["floe/customer-360", "floe", "a/b/c", "team.x/prod_data", "a__b"])
def test_valid_repositories(repo: str) -> None:
    assert validate_repository(repo) == repo


@pytest.mark.parametrize("repo", ["", "Floe/x", "floe/", "/floe", "floe//x", "floe/x;y", "-floe"])
def test_invalid_repositories(repo: str) -> None:
    with pytest.raises(InvalidReferenceError, match="not a valid OCI repository name"):
        validate_repository(repo)


def test_registry_in_reference_points_to_the_option() -> None:
    with pytest.raises(InvalidReferenceError, match="--registry or FLOE_REGISTRY_URL"):
        ArtifactRef.parse("127.0.0.1:5050/floe/x:v1")


def test_reference_parsing() -> None:
    ref = ArtifactRef.parse("floe/customer-360:v1.0.0")
    assert (ref.repository, ref.tag, ref.digest, ref.reference) == ("floe/customer-360", "v1.0.0", None, "v1.0.0")
    by_digest = ArtifactRef.parse(f"floe/x@{DIGEST}")
    assert by_digest.digest == DIGEST and by_digest.tag is None and str(by_digest) == f"floe/x@{DIGEST}"
    with pytest.raises(InvalidReferenceError, match="has no tag"):
        ArtifactRef.parse("floe/x")
    with pytest.raises(InvalidReferenceError, match="whitespace"):
        ArtifactRef.parse("floe/x:v1 ;id")
    with pytest.raises(InvalidReferenceError, match="digest"):
        ArtifactRef.parse("floe/x@sha256:abc")
    with pytest.raises(InvalidReferenceError, match="'\\$'"):
        ArtifactRef.parse("floe/x:$(id)")


@pytest.mark.parametrize(("tag", "immutable"), [
    ("v1.0.0", True), ("1.2.3", True), ("1.2.3-rc.1", True), ("v10.0.1-alpha", True),
    ("latest", False), ("dev", False), ("snapshot-1", False), ("v1.0", False), ("01.2.3", False),
])
def test_semver_tags_are_immutable(tag: str, immutable: bool) -> None:
    assert is_immutable(tag) is immutable


def test_derived_tags() -> None:
    assert promotion_tag("v1.0.0", "staging") == "v1.0.0-staging"
    assert environment_tag("prod") == "env-prod"
    assert signature_tag(DIGEST) == "sha256-" + "ab" * 32 + ".sig"
    with pytest.raises(InvalidReferenceError, match="at most 128"):
        promotion_tag("a" * 125, "staging")


@pytest.mark.parametrize("tag", ["env-prod", "audit-123", "sha256-abc.sig", "v1.0.0-staging", "v1.0.0-prod",
                                 "1.0.0-dev"])
def test_reserved_tags(tag: str) -> None:
    assert reserved_reason(tag) is not None


@pytest.mark.parametrize("tag", ["v1.0.0", "v1.0.0-rc.1", "latest", "production-candidate"])
def test_unreserved_tags(tag: str) -> None:
    assert reserved_reason(tag) is None
