"""The sandbox an instance's processes live in: bubblewrap, inside the instance's namespace.

An instance is a tenant, not the host. One long-lived sandbox per running instance, made
by ``bwrap`` at boot, holds everything that runs in it; UserData and ``pocketlink exec``
enter it with ``nsenter``, so both see the same files, processes and hostname.

- A user namespace of its own whose ids 0-65535 are the host's ``ROOT_INSIDE`` and up:
  root inside is an unprivileged uid outside (it cannot read the host's 0600 files), and
  its capabilities (``CAPABILITIES``, bwrap drops the rest) reach no namespace the host
  owns: not the instance's network (no ``ip link``, no ``nsenter`` into the host's), nor
  any mount but its own. Nested user namespaces are refused (``max_user_namespaces`` 0),
  so nothing inside can win capabilities back or slip into a namespace of its own.
- A mount namespace: the host's root read-only; ``PRIVATE`` folders (/tmp, /var, /home,
  /root) writable and kept in the instance's folder, so they outlive stop, start and a
  daemon restart; /run a fresh tmpfs each boot; its own /etc/hostname, /etc/hosts and
  /etc/resolv.conf (the VPC resolver); the daemon's data and the other namespaces'
  configuration (/etc/netns) hidden.
- Its own system CA store (``trust_store``): the host's /etc/ssl/certs with pocketlink's
  CA added (the bundle, its hashed link), bound over the host's, and over RHEL's and
  BSD's single files where the host has them; and ``CA_VARIABLES`` point every process
  at that bundle: whatever a tool reads, it trusts the certificates of pocketlink's
  service front (``pocketlink.services.ca``).
- PID, UTS and IPC namespaces: ``ps`` shows the instance's processes only, the hostname is
  ``ip-10-0-1-5`` as on EC2. No new privileges, and a session of its own.
- A CPU cgroup of its own (``cpu``), weighted below pocketlink's own processes, joined
  by everything that enters the sandbox too.

The sandbox does not die with the daemon (no ``--die-with-parent``): instances' workloads
outlive a daemon restart, and the restarted daemon finds each sandbox again by its network
namespace. ``processes.stop_all`` ends it with everything in that namespace.

bwrap writes the user namespace's one-id map itself when unprivileged; a 65,536-id map
(so that Apache can switch to www-data inside) needs root: bwrap waits on
``--userns-block-fd`` while the daemon writes it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from pocketlink.instances import cpu
from pocketlink.instances.processes import pids_in
from pocketlink.network import netns

ROOT_INSIDE = 100_000  # the host uid that root inside a sandbox is
IDS = 65_536  # ids 0..65535 inside are ROOT_INSIDE.. outside
PRIVATE = ("/tmp", "/var", "/home", "/root")  # writable, kept in the instance's folder
OWN = ("/proc", "/dev", "/run")  # fresh in each sandbox
STAGE = Path("/run/pocketlink/sandbox")  # an empty mount point on the host (see ``start``)
# What root inside needs (Apache switches to www-data and signals its children; package
# scripts chown), all of it bounded by the user namespace: it acts on the sandbox's own
# processes and on files whose owners are mapped in it, never on the host's.
CAPABILITIES = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_SYS_CHROOT")
CA_STORE = Path("/etc/ssl/certs")  # the system CA store (Debian's layout)
CA_FILE = "ca-certificates.crt"  # its bundle of every trusted root
OTHER_CA_FILES = (Path("/etc/pki/tls/certs/ca-bundle.crt"), Path("/etc/ssl/cert.pem"))
OWN_STORE = "etc/ca-store"  # in the instance's folder
CA_VARIABLES = {name: f"{CA_STORE}/{CA_FILE}" for name in (
    "AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS")}
ENVIRONMENT = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": "/root", "LANG": "C.UTF-8", **CA_VARIABLES}
START_TIMEOUT = 15.0


def hostname(instance_id: str, addresses: tuple[str, ...]) -> str:
    """EC2's hostname: ``ip-10-0-1-5`` from the primary private IPv4 address, or the
    instance id (resource-based naming) for an IPv6-only instance."""
    for address in addresses:
        ip = ipaddress.ip_interface(address).ip
        if ip.version == 4 and not ip.is_loopback:
            return f"ip-{str(ip).replace('.', '-')}"
    return instance_id


def init_of(namespace: str, hint: int | None = None) -> int | None:
    """The host's pid of the sandbox's PID 1 in ``namespace``: ``hint`` (a pid file's) when
    it still is that, else found among the namespace's processes."""
    inode = netns.inode(namespace)
    if inode is None:
        return None
    if hint is not None and _is_init(hint, inode):
        return hint
    return next((pid for pid in pids_in(namespace) if _is_init(pid, inode)), None)


def _is_init(pid: int, inode: int) -> bool:
    """PID 1 of a PID namespace below the host's, in the network namespace ``inode``."""
    try:
        if os.readlink(f"/proc/{pid}/ns/net") != f"net:[{inode}]":
            return False
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return line.split()[1:] == [str(pid), "1"]
    return False


def enter(init: int) -> list[str]:
    """The command prefix that runs a command inside the sandbox whose PID 1 is ``init``:
    its CPU group, namespaces and root, as root inside, with the capabilities the sandbox
    has."""
    keep = ",".join(f"+{c.removeprefix('CAP_').lower()}" for c in CAPABILITIES)
    return [*cpu.joining(cpu.of(init)),
            "nsenter", f"--target={init}", "--user", "--mount", "--pid", "--uts", "--ipc",
            "--net", "--root", "--wd", "--",
            "setpriv", "--no-new-privs", "--inh-caps=-all", f"--bounding-set=-all,{keep}", "--",
            "env", *(f"{k}={v}" for k, v in CA_VARIABLES.items())]


def prepare(folder: Path, name: str, addresses: tuple[str, ...],
            ca_bundle: Path | None = None) -> None:
    """The instance's own files in ``folder`` (``fs``): its private folders on first boot,
    the /var skeleton from the host's, /etc/hostname and /etc/hosts, and its CA store
    (made again at each boot, from ``ca_bundle``: the host's roots plus pocketlink's CA)."""
    fs = folder / "fs"
    for private in PRIVATE:
        path = fs / private.lstrip("/")
        if path.exists():
            continue
        if private == "/var":
            path.parent.mkdir(parents=True, exist_ok=True)
            _copy_skeleton(Path("/var"), path)
        else:
            path.mkdir(parents=True)
            os.chown(path, ROOT_INSIDE, ROOT_INSIDE)
            path.chmod({"/tmp": 0o1777, "/root": 0o700}.get(private, 0o755))
    etc = fs / "etc"
    if not etc.exists():
        etc.mkdir(parents=True)
        os.chown(etc, ROOT_INSIDE, ROOT_INSIDE)
    lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    lines += [f"{ipaddress.ip_interface(a).ip} {name}" for a in addresses[:1]]
    for file, text in (("hostname", f"{name}\n"), ("hosts", "\n".join(lines) + "\n")):
        path = etc / file
        if not path.exists():
            path.write_text(text)
            os.chown(path, ROOT_INSIDE, ROOT_INSIDE)
    if ca_bundle is not None and CA_STORE.is_dir():  # a host with no store: the variables only
        trust_store(fs / OWN_STORE, ca_bundle)


def trust_store(target: Path, bundle: Path) -> None:
    """The host's CA store (its links to each root, its hashed names) with ``bundle`` as
    its bundle file and pocketlink's roots (the bundle's certificates the host's bundle does
    not hold: its CA and ACM's) added with their OpenSSL subject-hash names, so that a tool
    reading the folder trusts them too. Owned by the host's root: read-only inside."""
    partial = target.with_name(target.name + ".new")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, mode=0o755)
    with os.scandir(CA_STORE) as entries:
        for entry in entries:
            if entry.is_symlink():
                (partial / entry.name).symlink_to(os.readlink(entry.path))
            elif entry.is_dir():
                (partial / entry.name).mkdir()  # the host's, bound on it (``_arguments``)
            elif entry.name != CA_FILE:
                shutil.copyfile(entry.path, partial / entry.name)
    shutil.copyfile(bundle, partial / CA_FILE)
    system = set(_pems((CA_STORE / CA_FILE).read_text())) if (CA_STORE / CA_FILE).exists() \
        else set()
    for index, ours in enumerate(p for p in _pems(bundle.read_text()) if p not in system):
        name = "pocketlink-ca.pem" if index == 0 else f"pocketlink-ca-{index}.pem"
        (partial / name).write_text(ours)
        subject_hash = subprocess.run(["openssl", "x509", "-noout", "-subject_hash"],
                                      input=ours, capture_output=True, text=True,
                                      check=True).stdout.strip()
        suffix = next(n for n in range(10) if not (partial / f"{subject_hash}.{n}").exists())
        (partial / f"{subject_hash}.{suffix}").symlink_to(name)
    for path in partial.iterdir():
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)


def _pems(text: str) -> list[str]:
    """The certificates of a bundle, each as its own PEM text."""
    end = "-----END CERTIFICATE-----"
    return [part[part.index("-----BEGIN"):] + end + "\n" for part in text.split(end)
            if "-----BEGIN CERTIFICATE-----" in part]


SKELETON_DEPTH = 2  # /var/log/apache2, not /var/cache/man/de/man1: each costs every boot


def _copy_skeleton(source: Path, target: Path, depth: int = SKELETON_DEPTH) -> None:
    """The host's /var as folders and links, without their files, owned inside as on the
    host, ``depth`` levels down: where services keep their own (/var/log/apache2,
    /var/lib/haproxy, /var/run)."""
    def shift(path: Path, stat: os.stat_result) -> None:
        uid, gid = (i if i < IDS else IDS - 2 for i in (stat.st_uid, stat.st_gid))
        os.chown(path, ROOT_INSIDE + uid, ROOT_INSIDE + gid, follow_symlinks=False)

    stat = source.stat()
    target.mkdir()
    target.chmod(stat.st_mode & 0o7777)
    shift(target, stat)
    with os.scandir(source) as entries:  # their types without a stat of every file
        for entry in entries:
            if entry.is_symlink():
                (target / entry.name).symlink_to(os.readlink(entry.path))
                shift(target / entry.name, entry.stat(follow_symlinks=False))
            elif entry.is_dir(follow_symlinks=False) and depth > 0:
                _copy_skeleton(Path(entry.path), target / entry.name, depth - 1)


def _arguments(namespace: str, name: str, hidden: list[Path], trust: bool) -> list[str]:
    """bwrap's arguments: the instance's own files come from ``STAGE``."""
    args = ["--unshare-pid", "--unshare-uts", "--unshare-ipc", "--hostname", name,
            *_host_root(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run",
            "--dir", "/run/lock"]
    for private in PRIVATE:
        args += ["--bind", f"{STAGE}{private}", private]
    for path in hidden:
        args += ["--tmpfs", str(path)]
    # After the tmpfs: a host whose /etc/resolv.conf links into /run gets it there.
    for file in ("/etc/hostname", "/etc/hosts"):
        args += ["--bind", f"{STAGE}{file}", os.path.realpath(file)]
    args += ["--ro-bind", str(netns.ETC_NETNS / namespace / "resolv.conf"),
             os.path.realpath("/etc/resolv.conf")]
    if trust:
        store = os.path.realpath(CA_STORE)
        args += ["--ro-bind", f"{STAGE}/{OWN_STORE}", store]
        for entry in sorted(CA_STORE.iterdir()):
            if entry.is_dir() and not entry.is_symlink():  # java/: the host's keystore
                args += ["--ro-bind", f"{store}/{entry.name}", f"{store}/{entry.name}"]
        for other in OTHER_CA_FILES:
            if other.exists():
                args += ["--ro-bind", f"{STAGE}/{OWN_STORE}/{CA_FILE}", os.path.realpath(other)]
    args += ["--cap-drop", "ALL"]
    for capability in CAPABILITIES:
        args += ["--cap-add", capability]
    args += ["--remount-ro", "/", "--new-session", "--chdir", "/", "--clearenv"]
    for key, value in ENVIRONMENT.items():
        args += ["--setenv", key, value]
    return args


def _host_root() -> list[str]:
    """The host's root read-only, entry by entry but for what the sandbox has its own of:
    not ``--ro-bind / /``, whose submounts would show every namespace's name under /run
    in the sandbox's /proc/self/mountinfo."""
    args = []
    for entry in sorted(Path("/").iterdir()):
        if str(entry) in (*PRIVATE, *OWN):
            continue
        if entry.is_symlink():
            args += ["--symlink", os.readlink(entry), str(entry)]
        else:
            args += ["--ro-bind", str(entry), str(entry)]
    return args


def _init(ready: int) -> list[str]:
    """The sandbox's first process: it says it is up, then waits for the end of the world
    (bwrap, its PID 1, reaps the orphans)."""
    return ["/bin/bash", "-c", f"echo up >&{ready}; exec sleep infinity {ready}>&-"]


def hidden_paths(data_dir: Path) -> list[Path]:
    """What the sandbox must not see of the host: every namespace's configuration, and the
    daemon's data unless a private folder hides it already or the folders above it let no
    stranger through (root inside is one)."""
    paths = [netns.ETC_NETNS] if netns.ETC_NETNS.is_dir() else []
    data = data_dir.resolve()
    if not any(data.is_relative_to(p) for p in PRIVATE) and all(
            p.stat().st_mode & 0o001 for p in (data, *data.parents)):
        paths.append(data)
    return paths


def start(folder: Path, namespace: str, name: str, hidden: list[Path],
          log: int) -> tuple[subprocess.Popen, int]:
    """A new sandbox in ``namespace``, its files in ``folder``; bwrap's complaints go to
    ``log``. Once it is up: bwrap's process (the daemon's child, to be reaped) and the
    host's pid of the sandbox's PID 1."""
    info_r, info_w = os.pipe()
    block_r, block_w = os.pipe()
    ready_r, ready_w = os.pipe()
    args_r, args_w = os.pipe()
    arguments = _arguments(namespace, name, hidden, (folder / "fs" / OWN_STORE).is_dir())
    # Through a pipe, so that ``ps`` inside shows no host path (the command stays on the
    # command line: bwrap reads it only there).
    os.write(args_w, b"\0".join(a.encode() for a in arguments) + b"\0")
    os.close(args_w)
    # bwrap runs as ROOT_INSIDE, a stranger to the folders above the instance's (the
    # daemon's data dir may be in root's 0700 home), and resolves its sources as that uid:
    # ``ip netns exec``'s own mount namespace shows the instance's folder at ``STAGE``.
    STAGE.mkdir(parents=True, exist_ok=True)
    command = [*cpu.joining(cpu.make(namespace)), "ip", "netns", "exec", namespace,
               "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"',
               str(folder / "fs"), str(STAGE),
               "setpriv", f"--reuid={ROOT_INSIDE}", f"--regid={ROOT_INSIDE}", "--clear-groups",
               "--", "bwrap", "--unshare-user", "--userns-block-fd", str(block_r),
               "--info-fd", str(info_w), "--args", str(args_r), "--", *_init(ready_w)]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   pass_fds=(info_w, block_r, ready_w, args_r),
                                   cwd="/", env=ENVIRONMENT, start_new_session=True)
    finally:
        for fd in (info_w, block_r, ready_w, args_r):
            os.close(fd)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        info = json.loads(_read_until(info_r, deadline, lambda data: data.rstrip().endswith(b"}")))
        init = int(info["child-pid"])
        for kind in ("uid", "gid"):
            Path(f"/proc/{init}/{kind}_map").write_text(f"0 {ROOT_INSIDE} {IDS}\n")
        _refuse_nested_user_namespaces(init)
        os.write(block_w, b"1")
        if not _read_until(ready_r, deadline, lambda data: data.endswith(b"\n")):
            raise RuntimeError("the sandbox did not come up")
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        if process.poll() is None:
            process.kill()
        process.wait()
        raise RuntimeError(f"sandbox in {namespace}: {error}") from None
    finally:
        for fd in (info_r, block_w, ready_r):
            os.close(fd)
    return process, init


def _refuse_nested_user_namespaces(init: int) -> None:
    """``user.max_user_namespaces`` 0 in the sandbox's user namespace: its sysctls are its
    own, written from inside it (a threaded daemon cannot join one, nsenter can)."""
    done = subprocess.run(["nsenter", f"--target={init}", "--user", "--", "sh", "-c",
                           "echo 0 > /proc/sys/user/max_user_namespaces"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cannot limit user namespaces: {done.stderr.strip()}")


def _read_until(fd: int, deadline: float, enough: Callable[[bytes], bool]) -> bytes:
    # poll, not select: a daemon with many listeners holds descriptors above FD_SETSIZE
    # (1,024), which select refuses.
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    data = b""
    while not enough(data):
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            raise RuntimeError("bwrap did not answer in time")
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data
