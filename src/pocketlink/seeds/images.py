"""A container image made on the spot, and ECR's push and pull around it.

No registry on the internet is reachable here, so the seed's image is built from files: an
OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/...``) with one gzipped
layer, which ``skopeo copy oci:DIR:TAG docker://...`` pushes as any image. The host
pushes through the daemon's own port, which serves ECR's registry API for the account of
the token (``localhost:4566/REPOSITORY:TAG``, plain HTTP); an instance pulls from the
registry's real name over TLS, as at AWS.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
COMMAND_TIMEOUT = "20s"  # skopeo gives up a copy after this (a blackholed name never answers)


def oci_layout(folder: Path, files: dict[str, bytes], tag: str = "latest") -> Path:
    """An image of ``files`` (path inside the image: content) as an OCI layout in
    ``folder``; ``oci:FOLDER:TAG`` names it to skopeo."""
    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes, media_type: str) -> dict:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    layer_tar = archive.getvalue()
    layer = blob(gzip.compress(layer_tar, mtime=0),
                 "application/vnd.oci.image.layer.v1.tar+gzip")
    config = blob(json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers",
                   "diff_ids": [f"sha256:{hashlib.sha256(layer_tar).hexdigest()}"]},
    }).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = blob(json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                "config": config, "layers": [layer]}).encode(), OCI_MANIFEST)
    manifest["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (folder / "index.json").write_text(json.dumps({"schemaVersion": 2,
                                                   "manifests": [manifest]}))
    (folder / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return folder


def push(layout: Path, tag: str, endpoint: str, repository: str, password: str
         ) -> subprocess.CompletedProcess:
    """``skopeo copy`` of the layout to the registry on the daemon's port (``endpoint``:
    ``http://localhost:4566``), as ``AWS`` with an ECR token's password."""
    address = endpoint.removeprefix("http://").rstrip("/")
    return subprocess.run(
        ["skopeo", "--command-timeout", COMMAND_TIMEOUT, "copy", "--dest-tls-verify=false",
         "--dest-creds", f"AWS:{password}", f"oci:{layout}:{tag}",
         f"docker://{address}/{repository}:{tag}"],
        capture_output=True, text=True, timeout=120)


def pull_command(image: str, into: str, aws_options: str = "") -> str:
    """The shell line an instance runs to pull ``image`` (``ACCOUNT.dkr.ecr...:TAG``) into
    the directory ``into``: its token from the ECR API (through ecr.api), the image from
    the registry (ecr.dkr) and its layers from S3."""
    return (f"password=$(aws {aws_options} ecr get-login-password) && skopeo "
            f"--command-timeout {COMMAND_TIMEOUT} copy --src-creds \"AWS:$password\" "
            f"docker://{image} dir:{into}")


def read_command(pulled: str, name: str) -> str:
    """The shell line that prints the file ``name`` from the layers of an image pulled
    into ``pulled`` (skopeo's ``dir:`` format: each blob a file named by its digest)."""
    return (f"for blob in {pulled}/*; do tar -xzOf \"$blob\" {name} 2>/dev/null; done; "
            f"test -s {pulled}/manifest.json")
