"""One file out of an npm package, for the tests: fetched once, verified, kept in .venv.

The AsyncAPI initiative publishes the official JSON Schema of every AsyncAPI version in the
npm package @asyncapi/specs, and no PyPI package ships it. `make test` fetches the pinned
tarball from the npm registry (reachable wherever PyPI is), checks it against the
integrity hash the registry published for that version, and keeps the one file the tests
validate against; nothing of the spec is copied into the repository.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


class IntegrityError(RuntimeError):
    pass


def fetch_file(package: str, version: str, integrity: str, member: str, dest: Path) -> Path:
    """Write `member` of `package@version` to `dest` (if not there yet); returns `dest`."""
    if dest.exists():
        return dest
    name = package.rsplit("/", 1)[-1]
    url = f"{REGISTRY}/{package}/-/{name}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=60) as response:
        tarball = response.read()
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        raise IntegrityError(f"{url}: {algorithm} is {actual}, not the pinned {expected}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        content = archive.extractfile(f"package/{member}").read()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(content)
    return dest
