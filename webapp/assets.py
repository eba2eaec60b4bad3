"""Front-end assets (htmx, Pico CSS): fetched from the npm registry, integrity-checked.

They are installed into ``webapp/static/vendor`` by the set-up step and served from
there; never committed to git and never loaded from a CDN at run time. Test assets
(axe-core, the accessibility checker of the browser tests) are fetched the same way, but
only by the tests, into ``tests/browser/vendor``: the app never serves them.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).with_name("static") / "vendor"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    integrity: str  # the registry's "dist.integrity" (subresource-integrity sha512)
    member: str  # the file inside the package tarball
    target: str  # file name under static/vendor

    @property
    def tarball(self) -> str:
        registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
        return f"{registry}/{self.package}/-/{self.package.split('/')[-1]}-{self.version}.tgz"


ASSETS = (
    Asset("htmx.org", "2.0.11",
          "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
          "package/dist/htmx.min.js", "htmx.min.js"),
    Asset("@picocss/pico", "2.1.1",
          "sha512-kIDugA7Ps4U+2BHxiNHmvgPIQDWPDU4IeU6TNRdvXQM1uZX+FibqDQT2xUOnnO2yq/LUHcwnGlu1hvf4KfXnMg==",
          "package/css/pico.min.css", "pico.min.css"),
)


# Only the browser tests use this one (the accessibility checker): pinned and integrity-checked like the rest.
AXE = Asset("axe-core", "4.14.1",
            "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
            "package/axe.min.js", "axe.min.js")


class AssetError(Exception):
    """An asset could not be fetched or failed its integrity check."""


def verify(data: bytes, integrity: str) -> None:
    """Check ``data`` against an SRI string such as ``sha512-…``."""
    algo, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        raise AssetError(f"integrity check failed: expected {integrity}, got {algo}-{digest}")


def install(asset: Asset, dest: Path = VENDOR) -> Path:
    """Download, verify and unpack one asset; a present file is kept as it is."""
    target = dest / asset.target
    stamp = dest / f".{asset.target}.version"
    if target.exists() and stamp.exists() and stamp.read_text() == asset.integrity:
        return target
    try:
        with urllib.request.urlopen(asset.tarball, timeout=60) as response:
            data = response.read()
    except OSError as exc:
        raise AssetError(f"cannot download {asset.package}@{asset.version}: {exc}") from None
    verify(data, asset.integrity)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(asset.member)
        if member is None:
            raise AssetError(f"{asset.member} is missing from {asset.package}@{asset.version}")
        content = member.read()
    dest.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    stamp.write_text(asset.integrity)
    return target


def install_all(dest: Path = VENDOR) -> list[Path]:
    """Install every asset; returns their paths."""
    return [install(asset, dest) for asset in ASSETS]


def missing(dest: Path = VENDOR) -> list[str]:
    """Names of assets not installed yet (the app warns at start-up)."""
    return [a.target for a in ASSETS if not (dest / a.target).exists()]
