"""moto's state on disk: one pickle per service and account, S3 object bodies beside them.

Runs inside the backend process only (it imports moto). moto keeps every service's data in
``BackendDict``s (``[account][region] -> backend``); after a request that changed something,
each ``(service, account)`` the request touched is pickled whole to
``snapshots/<service>/<account>.pickle`` (written aside, then renamed: a process killed
mid-write leaves the previous snapshot). S3 object bodies are not in those pickles: each
body is written once to ``objects/<account>/<name>`` when its object is first saved, and
the pickle names the file, so a change to a bucket costs its metadata, not its bytes.

Snapshots rather than a log of replayed calls: a snapshot holds exactly what moto had,
with the ids, ARN suffixes, version ids, key material and timestamps it made, where a
replay would have to make moto's random and clock repeat themselves for every service.

Plain pickle does almost all of it; the few things moto holds that pickle refuses get a
reducer here: locks (made anew), private keys (their DER bytes; KMS's RSA and EC keys),
functions defined inside functions (``defaultdict(lambda: ...)``; dill pickles those),
defaultdict subclasses whose ``__init__`` takes other arguments, and weak-valued
dictionaries (Lambda's functions by ARN: their items, which the state holds anyway).
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import pickle
import tempfile
import threading
import types
import uuid
import weakref
from collections import defaultdict
from pathlib import Path
from typing import Any

import dill
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.s3.models import FakeKey
from moto.settings import get_s3_default_key_buffer_size

log = logging.getLogger("pocketlink.backend")

LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
PRIVATE_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
STORED_BODY = "_pocketlink_body"  # a FakeKey's attribute: its body's file, under objects/
CHUNK = 1 << 20


def _private_key(der: bytes) -> Any:
    return load_der_private_key(der, None)


def _stored_key(path: str) -> FakeKey:
    """An S3 object whose body is the file ``path``; its other fields come as pickle state."""
    key = FakeKey.__new__(FakeKey)
    key.lock = threading.Lock()
    key._value_buffer = tempfile.SpooledTemporaryFile(get_s3_default_key_buffer_size())  # noqa: SIM115 (the key owns it)
    with open(path, "rb") as body:
        while block := body.read(CHUNK):
            key._value_buffer.write(block)
    return key


def _set_state(obj: Any, state: dict) -> None:
    obj.__dict__.update(state)


def _set_defaultdict_state(obj: defaultdict, state: tuple) -> None:
    """A defaultdict subclass whose ``__init__`` wants more than a factory (SSM's
    ParameterDict): made bare, then filled."""
    obj.default_factory, attributes, items = state
    obj.__dict__.update(attributes)
    dict.update(obj, items)


class _Body(str):
    """Names a body file in the pickle; the reader makes it a path under its own folder,
    so a state folder that moves keeps its objects."""


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader, objects: Path) -> None:
        super().__init__(file)
        self.objects = objects

    def persistent_load(self, name: str) -> str:
        return str(self.objects / name)


class _Pickler(pickle.Pickler):
    """Pickles one account's state of one service; its S3 bodies go to that account's
    folder (an object another account put into this account's bucket included)."""

    def __init__(self, file: io.BufferedWriter, objects: Path, account: str) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.objects = objects
        self.account = account
        self.bodies: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, FakeKey):
            return self._key(obj)
        if isinstance(obj, defaultdict) and type(obj) is not defaultdict:
            state = (obj.default_factory, obj.__dict__, dict(obj))
            return type(obj).__new__, (type(obj),), state, None, None, _set_defaultdict_state
        if isinstance(obj, weakref.WeakValueDictionary):
            return weakref.WeakValueDictionary, (dict(obj),)
        if isinstance(obj, LOCK_TYPES):
            return type(obj), ()
        if isinstance(obj, PRIVATE_KEYS):
            der = obj.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
            return _private_key, (der,)
        if isinstance(obj, types.FunctionType) and "<locals>" in obj.__qualname__:
            return dill.loads, (dill.dumps(obj, recurse=True),)
        return NotImplemented

    def persistent_id(self, obj: Any) -> str | None:
        return str(obj) if type(obj) is _Body else None

    def _key(self, key: FakeKey) -> Any:
        name = key.__dict__.get(STORED_BODY)
        if name is None or not name.startswith(f"{self.account}/") or \
                not (self.objects / name).exists():
            name = f"{self.account}/{uuid.uuid4().hex}"
            self._save_body(key, self.objects / name)
            key.__dict__[STORED_BODY] = name
        self.bodies.add(name)
        state = {k: v for k, v in key.__dict__.items() if k not in ("_value_buffer", "lock")}
        return _stored_key, (_Body(name),), state, None, None, _set_state

    @staticmethod
    def _save_body(key: FakeKey, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_suffix(".part")
        with aside.open("wb") as out, key.lock:
            try:
                key._value_buffer.seek(0)
                while block := key._value_buffer.read(CHUNK):
                    out.write(block)
            except ValueError:
                pass  # a deleted object's buffer is closed: its body is gone at AWS too
        os.replace(aside, path)


def _forget_body_on_write() -> None:
    """A FakeKey given a new body must save it again: its stored file is the old one."""
    stored = FakeKey.value

    def set_value(key: FakeKey, value: bytes) -> None:
        key.__dict__.pop(STORED_BODY, None)
        stored.fset(key, value)

    FakeKey.value = stored.setter(set_value)


class Snapshots:
    """Every ``(service, account)`` touched since the last ``save`` is saved by it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "snapshots"
        self.objects = folder / "objects"
        self.touched: set[tuple[BackendDict, str]] = set()
        self._track()
        _forget_body_on_write()

    def _track(self) -> None:
        get = BackendDict.__getitem__
        touched = self.touched

        def tracked(backends: BackendDict, account_id: str) -> AccountSpecificBackend:
            touched.add((backends, account_id))
            return get(backends, account_id)

        BackendDict.__getitem__ = tracked  # type: ignore[method-assign]

    def forget(self) -> None:
        self.touched.clear()

    def save(self) -> None:
        touched = list(self.touched)
        self.touched.clear()
        for backends, account in touched:
            self._save(backends, account)

    def _save(self, backends: BackendDict, account: str) -> None:
        state = dict.get(backends, account)
        if state is None:
            return
        path = self.folder / backends.service_name / f"{account}.pickle"
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_suffix(".part")
        with aside.open("wb") as out:
            pickler = _Pickler(out, self.objects, account)
            pickler.dump((backends.backend.__module__, backends.service_name, state))
        os.replace(aside, path)
        if pickler.bodies or backends.service_name == "s3":
            self._drop_bodies(account, pickler.bodies)

    def _drop_bodies(self, account: str, kept: set[str]) -> None:
        """Bodies of objects no S3 snapshot names any more (deleted, overwritten)."""
        folder = self.objects / account
        if not folder.is_dir():
            return
        for entry in folder.iterdir():
            if f"{account}/{entry.name}" not in kept:
                entry.unlink(missing_ok=True)

    def restore(self) -> dict[str, list[str]]:
        """Loads every snapshot into moto; gives the accounts restored, by service."""
        restored: dict[str, list[str]] = {}
        for path in sorted(self.folder.glob("*/*.pickle")):
            try:
                with path.open("rb") as source:
                    module, service, state = _Unpickler(source, self.objects).load()
                backends = _backend_dict(module, service)
            except Exception:
                log.exception("backend: cannot restore %s; it starts empty", path)
                continue
            dict.__setitem__(backends, state.account_id, state)
            if backends not in BackendDict._instances:
                BackendDict._instances.append(backends)
            restored.setdefault(service, []).append(state.account_id)
        return restored


def _backend_dict(module: str, service: str) -> BackendDict:
    for value in vars(importlib.import_module(module)).values():
        if isinstance(value, BackendDict) and value.service_name == service:
            return value
    raise LookupError(f"moto has no {service} backends in {module}")
