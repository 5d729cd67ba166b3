#!/usr/bin/env python3
"""The browser door's vendored xterm.js files, reproduced from npm and checked.

    python tools/web_assets.py           # download, verify, write the files
    python tools/web_assets.py --check   # verify the committed files, offline

The page must work after C{pip install .} on a machine without node or a
network, and must load nothing from a CDN, so the built files of pinned npm
releases are committed under C{bbs/web/static/vendor/}.  This script is how
they got there and how anyone can tell they are what npm published: each
tarball is pinned by version and by the sha512 C{integrity} the registry
lists for it, and each file we keep by its sha256.  The files are written
byte for byte as they are in the tarball (their C{sourceMappingURL} comments
included: the maps are not shipped, which only a browser's developer tools
notice).

Only the standard library, so it runs before anything is installed.  To move
to a new release: change C{version}, set C{integrity} to the registry's
(C{npm view @xterm/xterm@X dist.integrity}), run it, and copy the sha256
values it reports as wrong into C{files}, after reading the diff.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
VENDOR = Path(__file__).resolve().parent.parent / "bbs" / "web" / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    """One npm release: where it lives and what we keep of it.

    C{files} maps a path inside the tarball (below its C{package/} folder)
    to the file's name in C{vendor/<folder>/} and the file's sha256.
    """

    name: str
    version: str
    integrity: str
    folder: str
    files: dict[str, tuple[str, str]]

    @property
    def tarball(self) -> str:
        """The registry's URL of the release's tarball."""
        base = self.name.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.name}/-/{base}-{self.version}.tgz"


PACKAGES = (
    Package(
        name="@xterm/xterm",
        version="6.0.0",
        integrity="sha512-TQwDdQGtwwDt+2cgKDLn0IRaSxYu1tSUjgKarSDkUM0ZNiSRXFpjxEsvc/Zgc5kq5omJ+V0a8/kIM2WD3sMOYg==",
        folder="xterm",
        files={
            "lib/xterm.js": (
                "xterm.js",
                "14903579ff54664cd72f8e8699e6961a6272c21863ec1c3b118cdc8af5d4a972",
            ),
            "css/xterm.css": (
                "xterm.css",
                "854a7c0fb70e8b1a083c16797ab827299fb18744f5ad34f227b48337e33293c6",
            ),
            "LICENSE": (
                "LICENSE",
                "b569f629d00f2626a8100df2a1798210535621e42164dfd426a6fe5aac7b0ccd",
            ),
        },
    ),
    Package(
        name="@xterm/addon-fit",
        version="0.11.0",
        integrity="sha512-jYcgT6xtVYhnhgxh3QgYDnnNMYTcf8ElbxxFzX0IZo+vabQqSPAjC3c1wJrKB5E19VwQei89QCiZZP86DCPF7g==",
        folder="addon-fit",
        files={
            "lib/addon-fit.js": (
                "addon-fit.js",
                "ba3ea256ce0620a0992a197d6c9baea64823fc93d8da07a9e366ca9943c18527",
            ),
            "LICENSE": (
                "LICENSE",
                "e256f01188af527e4d06d21d06fbf785ae9c50d4b328bf03cbe0ba7f0aa4228f",
            ),
        },
    ),
)


def sha256(data: bytes) -> str:
    """The hex sha256 of C{data}, as written in L{Package.files}."""
    return hashlib.sha256(data).hexdigest()


def sri(data: bytes) -> str:
    """The npm C{integrity} string (Subresource Integrity, sha512) of C{data}."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def download(package: Package) -> bytes:
    """The release's tarball, refused unless its sha512 is the pinned one."""
    with urllib.request.urlopen(package.tarball, timeout=60) as response:
        data = response.read()
    got = sri(data)
    if got != package.integrity:
        raise SystemExit(
            f"{package.name}@{package.version}: tarball integrity {got}, "
            f"pinned {package.integrity}"
        )
    return data


def extract(package: Package, tarball: bytes) -> dict[str, bytes]:
    """The files we keep from C{tarball}, by their name in the vendor folder."""
    kept: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for inner, (name, _digest) in package.files.items():
            member = archive.extractfile(f"package/{inner}")
            if member is None:
                raise SystemExit(f"{package.name}: {inner} is not a file")
            kept[name] = member.read()
    return kept


def mismatches(package: Package, files: dict[str, bytes | None]) -> list[str]:
    """What is wrong with C{files} (None: missing) against the pinned sha256."""
    wrong = []
    for name, digest in package.files.values():
        data = files.get(name)
        if data is None:
            wrong.append(f"{package.folder}/{name}: missing")
        elif sha256(data) != digest:
            wrong.append(f"{package.folder}/{name}: sha256 {sha256(data)}, pinned {digest}")
    return wrong


def check(vendor: Path) -> list[str]:
    """What is wrong with the committed files under C{vendor}, without network."""
    wrong = []
    for package in PACKAGES:
        folder = vendor / package.folder
        files = {
            name: (folder / name).read_bytes() if (folder / name).is_file() else None
            for name, _digest in package.files.values()
        }
        wrong += mismatches(package, files)
    return wrong


def fetch(vendor: Path) -> list[str]:
    """Download, verify and write every package; what did not verify."""
    wrong = []
    for package in PACKAGES:
        files = extract(package, download(package))
        problems = mismatches(package, files)
        wrong += problems
        if problems:
            continue
        folder = vendor / package.folder
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        print(f"{package.name}@{package.version}: {len(files)} files in {folder}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="verify the committed files, no network"
    )
    parser.add_argument("--vendor", type=Path, default=VENDOR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    wrong = check(args.vendor) if args.check else fetch(args.vendor)
    for line in wrong:
        print(line, file=sys.stderr)
    if not wrong and args.check:
        print(f"{sum(len(p.files) for p in PACKAGES)} vendored files match their pins")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
