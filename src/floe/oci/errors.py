"""Errors of artifact distribution, rooted in floe's one error tree.

Signature and tamper problems share a base (``ArtifactSecurityError``) so callers can refuse content
for any of them in one ``except``; each message names the reference, the digest and what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from floe.errors import ConflictError, FloeError


class ArtifactError(FloeError):
    """Base of every artifact distribution problem that is not a plain service error."""

    exit_code = 10


class InvalidReferenceError(ArtifactError, ValueError):
    """A tag, repository, digest or reference that does not follow the OCI grammar.

    Also a ``ValueError`` so it can be raised from validators and caught as bad input.
    """


class ImmutableTagError(ConflictError):
    """A semver tag already points at different content; tags that look like releases never move."""


class ArtifactSecurityError(ArtifactError):
    """Content that must not be used: unsigned, wrongly signed or altered."""

    exit_code = 11


class UnsignedArtifactError(ArtifactSecurityError):
    pass


class SignatureInvalidError(ArtifactSecurityError):
    pass


class TamperedArtifactError(ArtifactSecurityError):
    """Bytes from the registry do not hash to the digest that names them."""


class SigningKeyError(ArtifactError):
    """A signing or verification key is missing, unreadable or too widely readable."""


class InvalidTransitionError(ArtifactError, ValueError):
    """A promotion that skips an environment, goes backwards or names an unknown environment."""

    exit_code = 12


class GateValidationError(ArtifactError):
    """One or more promotion gates failed; nothing was promoted."""

    exit_code = 12

    def __init__(self, message: str, *, failed: Sequence[Any], record: Any = None, hint: str | None = None) -> None:
        self.failed = list(failed)
        self.record = record
        super().__init__(message, hint=hint)
