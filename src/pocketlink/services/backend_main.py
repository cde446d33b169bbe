"""The backend process: moto's server on loopback, its state saved after every change.

``python -m pocketlink.services.backend_main FOLDER PARENT_PID``, started by
services/backend.py. It restores FOLDER's snapshots, listens on a free port of 127.0.0.1,
prints one JSON line (``{"port": ..., "restored": {service: [accounts]}}``) and serves.
Requests run one at a time: moto's models are not written for concurrent changes, and a
snapshot must see a state no other request is half-way through. After a request that
changed something (anything but a read, by its method or operation name) and succeeded,
the ``(service, account)``s it touched are saved before it is answered, so an answered
change survives the process being killed.
"""

from __future__ import annotations

import ctypes
import io
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pocketlink.services.backend import operation_name

log = logging.getLogger("pocketlink.backend")

PR_SET_PDEATHSIG = 1

# Operations that only read, by their name's first word (json and query protocols; REST
# reads are GET and HEAD). A read that moto records something for (GetSecretValue's
# LastAccessedDate) is not saved: the next change saves it.
READS = ("Get", "Describe", "List", "BatchGet", "Query", "Scan", "Lookup", "Search",
         "Filter", "Head")


def changes(environ: dict[str, Any], body: bytes) -> bool:
    if environ["REQUEST_METHOD"] in ("GET", "HEAD", "OPTIONS"):
        return False
    operation = operation_name(environ.get("HTTP_X_AMZ_TARGET", ""),
                               environ.get("QUERY_STRING", ""),
                               environ.get("CONTENT_TYPE", ""), body)
    return not operation.startswith(READS) if operation else True


class Persisting:
    """WSGI middleware around moto's app: one request at a time, saved when it changed
    something."""

    def __init__(self, app: Callable, snapshots: Any) -> None:
        self.app = app
        self.snapshots = snapshots
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        answer: dict[str, Any] = {}
        chunks: list[bytes] = []

        def keep(status: str, headers: list, exc_info: Any = None) -> Callable:
            answer.update(status=status, headers=headers)
            return chunks.append

        with self.lock:
            self.snapshots.forget()
            result = self.app(environ, keep)
            try:
                chunks.extend(result)
            finally:
                getattr(result, "close", lambda: None)()
            if int(answer["status"].split()[0]) < 400 and changes(environ, body):
                try:
                    self.snapshots.save()
                except Exception:
                    log.exception("backend: cannot save %s %s: the change is in memory only",
                                  environ["REQUEST_METHOD"], environ.get("PATH_INFO"))
        start_response(answer["status"], answer["headers"])
        return chunks


def die_with(parent: int) -> None:
    """The backend must not outlive the daemon (a SIGKILLed daemon cannot stop it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        sys.exit(0)


def one_bucket_policy_evaluator() -> None:
    """The gateway evaluates S3 bucket policies (gateway/bucket_policy.py), with the
    condition keys of the path a request took. moto would evaluate them a second time on
    object reads, without conditions (a Deny "unless aws:SourceVpce" would deny every
    caller): its bucket permission is made neutral, so that one evaluator decides."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = lambda self, action, resource: PermissionResult.NEUTRAL


def aws_managed_policies_on_demand() -> None:
    """AWS's managed policies (``arn:aws:iam::aws:policy/AdministratorAccess``, which
    ``cdk bootstrap``'s roles attach) exist in every account. moto loads all of them into
    every account only when told (MOTO_IAM_LOAD_MANAGED_POLICIES), ~1,200 objects an
    account in each snapshot; here one is added to an account when a call names it."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, IAMBackend

    catalogue: dict[str, dict] = {}

    def add(backend: IAMBackend, arn: str) -> None:
        parts = arn.split(":", 5)
        if arn in backend.managed_policies or len(parts) != 6 or parts[4] != "aws" or \
                not parts[5].startswith("policy/"):
            return
        if not catalogue:
            catalogue.update(json.loads(aws_managed_policies_data))
        name = parts[5].rsplit("/", 1)[-1]
        data = catalogue.get(name)
        if data is not None:
            policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name,
                                                data)
            if policy.arn == arn:
                backend.managed_policies[arn] = policy

    def naming_the_policy(method: Callable) -> Callable:
        def call(self: IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
            add(self, policy_arn)
            return method(self, policy_arn, *args, **kwargs)
        return call

    for name in ("attach_role_policy", "attach_user_policy", "attach_group_policy",
                 "get_policy", "get_policy_version", "list_policy_versions"):
        setattr(IAMBackend, name, naming_the_policy(getattr(IAMBackend, name)))


def main(argv: list[str]) -> None:
    folder, parent = Path(argv[0]), int(argv[1])
    die_with(parent)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from pocketlink.services.snapshots import Snapshots

    one_bucket_policy_evaluator()
    aws_managed_policies_on_demand()
    folder.mkdir(parents=True, exist_ok=True)
    snapshots = Snapshots(folder)
    restored = snapshots.restore()
    app = Persisting(DomainDispatcherApplication(create_backend_app), snapshots)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"port": server.server_port, "restored": restored}), flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads the pipe any more
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
