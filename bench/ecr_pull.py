"""An image layer pulled from ECR, side by side: inside an isolated subnet (ecr.dkr, ECR's
307 to S3, an S3 interface endpoint: TLS twice, the hyperplane, the service front, the
gateway, the registry's door, the layer read from the registry's storage), from the host
through ``localhost:4566`` (the door relaying the registry, no TLS, no redirect), and
straight from the registry on its unix socket (the registry's own cost).

Why: seed 004's task pulls its image through three endpoints; what that path costs next to
the registry itself is the figure worth knowing. The script starts ``pocketlink up``, builds
seed 004's VPC and instance, pushes an image whose one layer is ``--megabytes`` MiB of
random bytes, then times ``--rounds`` fetches of that layer with curl on each path (the
order rotated every round; each time as curl itself measures it, ``time_total``, so
``pocketlink exec``'s start is not in the instance's), and prints seconds and MiB/s per path and their ratios.

Run: ``python3 bench/ecr_pull.py [--rounds N] [--megabytes N] [--json FILE]`` (as root: the
daemon builds namespaces).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Daemon, preflight

from pocketlink.seeds import images
from pocketlink.seeds.seed004 import APP, REGION, Seed004

REPOSITORY, TAG = "bench/big", "v1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=32)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not preflight("ecr_pull.py", ("skopeo", "curl", "docker-registry")):
        return 2
    folder = Path(tempfile.mkdtemp(prefix="pocketlink-bench-ecr-"))
    daemon = Daemon(state=folder / "state.db", log=folder / "daemon.log")
    daemon.start()
    try:
        return run(daemon, folder, args)
    finally:
        daemon.tear_down()


def run(daemon: Daemon, folder: Path, args: argparse.Namespace) -> int:
    seed = Seed004(daemon.endpoint, say=lambda line: print(f"*** {line}", flush=True))
    seed.build()
    seed.create_endpoints(("ecr.api", "ecr.dkr", "s3"), s3_gateway=False)
    ecr = seed.client("ecr")
    ecr.create_repository(repositoryName=REPOSITORY)
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().partition(":")[2]
    print(f"*** pushing an image with a {args.megabytes} MiB layer", flush=True)
    layout = images.oci_layout(folder / "image", {"payload": os.urandom(args.megabytes << 20)},
                               TAG)
    pushed = images.push(layout, TAG, daemon.endpoint, REPOSITORY, password)
    if pushed.returncode != 0:
        print(pushed.stderr, file=sys.stderr)
        return 1
    digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs/sha256" / digest.partition(":")[2]).read_text())
    layer = manifest["layers"][0]
    size_mib = layer["size"] / (1 << 20)
    registry = daemon.status()["registry"]["socket"]
    blob = f"/v2/{REPOSITORY}/blobs/{layer['digest']}"
    # The layer on each path, fetched by curl alone (skopeo's own hashing and writing would
    # cost every path the same): through the VPC it follows ECR's 307 to S3 (-L; curl drops
    # the Basic auth on the way to another host, as skopeo does).
    paths = {
        "instance (ecr.dkr, 307, S3 endpoint)": [
            sys.executable, "-m", "pocketlink", "exec", seed.ids["instance"], "--", "curl",
            "-sfL", "-o", "/dev/null", "-w", "%{time_total}", "-u", f"AWS:{password}",
            f"https://{APP}.dkr.ecr.{REGION}.amazonaws.com{blob}"],
        "host (localhost:4566)": [
            "curl", "-sf", "-o", "/dev/null", "-w", "%{time_total}", "-u", f"AWS:{password}",
            f"{daemon.endpoint}{blob}"],
        "registry alone (its unix socket)": [
            "curl", "-sf", "-o", "/dev/null", "-w", "%{time_total}", "--unix-socket", registry,
            f"http://registry/v2/{APP}/{REGION}/{REPOSITORY}/blobs/{layer['digest']}"],
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    for round_ in range(args.rounds + 1):  # round 0 warms up
        names = list(paths)
        names = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in names:
            done = subprocess.run(paths[name], capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                print(f"{name}: {done.stderr.strip()[-500:]}", file=sys.stderr)
                return 1
            if round_:
                times[name].append(float(done.stdout.strip()))  # curl's own time_total
    result = {name: {"median_s": statistics.median(t), "mib_per_s": size_mib /
                     statistics.median(t)} for name, t in times.items()}
    print(f"\nlayer {size_mib:.1f} MiB (gzip of random bytes), {args.rounds} rounds, median:")
    for name, figures in result.items():
        print(f"  {name:36s} {figures['median_s']:7.2f} s  {figures['mib_per_s']:8.1f} MiB/s")
    instance, host, alone = (result[name]["median_s"] for name in paths)
    print(f"  instance / host: x{host / instance:.2f} speed; host / registry alone: "
          f"x{alone / host:.2f} speed")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
