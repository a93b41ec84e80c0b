"""Per-product principals: on a shared platform each data product runs as itself.

With ``plugins.catalog.principals: per-product`` the compiler gives every product its own catalog
credentials (and, with ``storage.access: product-principal``, its own access key), as references to
``FLOE_PRODUCT_<PRODUCT>_CLIENT_ID`` / ``..._CLIENT_SECRET``. The platform creates one principal per
product with grants limited to the product's two namespaces, ``<slug>_raw`` and ``<slug>``, so one
product can neither read nor write another's tables.
"""

from __future__ import annotations

import re
from typing import Any

from floe.config._base import SecretRef
from floe.config.plugins import ProductPrincipal

PER_PRODUCT = "per-product"


def product_slug(product: str) -> str:
    """``customer-360`` -> ``customer_360``: the product's namespace."""
    return product.replace("-", "_")


def product_namespaces(product: str) -> tuple[str, str]:
    slug = product_slug(product)
    return f"{slug}_raw", slug


def principal_name(product: str) -> str:
    return f"floe-{product}"


def product_secret_names(product: str) -> tuple[str, str]:
    key = re.sub(r"[^A-Z0-9]", "_", product.upper())
    return f"FLOE_PRODUCT_{key}_CLIENT_ID", f"FLOE_PRODUCT_{key}_CLIENT_SECRET"


def per_product(manifest: Any) -> bool:
    """True when a plugin of the manifest (its catalog, in practice) gives each product its own principal."""
    return bool(manifest.plugins.product_principals)


def scope_to_product(manifest: Any, product: str) -> Any:
    """The manifest as ``product`` sees it: every plugin that knows per-product principals (the
    catalog's client credentials, S3 keys with ``access: product-principal``) uses the product's own."""
    if not per_product(manifest):
        return manifest
    key_id, secret = (SecretRef(source="env", name=n) for n in product_secret_names(product))
    principal = ProductPrincipal(product=product, client_id=key_id, client_secret=secret)
    return manifest.model_copy(update={"plugins": manifest.plugins.for_product(principal)})
