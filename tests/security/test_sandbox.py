"""A hostile tenant inside its instance: the escapes of issue 14, run from UserData and
from ``pocketlink exec``, each shown to fail; and what must still work inside the sandbox.

Each probe prints ``probe NAME held`` when the escape failed and ``probe NAME ESCAPED``
when it worked, so that one look at the console log (or exec's output) tells which.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pocketlink.instances import processes, sandbox
from pocketlink.instances.userdata import Instances
from pocketlink.seeds.httpd import ACCESS_LOG, httpd_user_data
from tests.conftest import PROVIDER, wait_for
from tests.network.conftest import dual_stack_vpc, launch, run_in, web_group

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root")

PROBES = r"""#!/bin/sh
probe() {
    name=$1; shift
    if "$@" >/dev/null 2>&1; then echo "probe $name ESCAPED"; else echo "probe $name held"; fi
}
probe host-netns-by-pid-1 nsenter --net=/proc/1/ns/net true
probe host-netns-by-parent nsenter --net=/proc/$PPID/ns/net true
probe host-mount-ns-by-pid-1 nsenter --mount=/proc/1/ns/mnt true
probe daemon-api curl -s -m 3 http://127.0.0.1:{port}/_pocketlink/health
probe state-read cat {state}
probe state-write sh -c 'echo x >> {state}'
probe data-dir-list ls {data}/instances
probe etc-write touch /etc/pocketlink-escape
probe usr-write touch /usr/pocketlink-escape
probe shadow-read cat /etc/shadow
probe link-add ip link add pl-escape type dummy
probe address-add ip address add 10.9.9.9/32 dev lo
probe mount mount -t tmpfs none /mnt
probe remount-root mount -o remount,rw /
probe nested-user-namespace unshare --user true
probe netns-list sh -c 'ip netns list | grep -q .'
probe etc-netns-list sh -c 'ls -A /etc/netns | grep -q .'
probe host-processes sh -c 'ps -eo args | grep -q "[p]ocketlink up"'
probe sethostname hostname pwned
echo "hostname $(hostname)"
echo "uid $(id -u)"
echo "processes $(ls -d /proc/[0-9]* | wc -l)"
"""


def _probes(daemon) -> str:
    return (PROBES.replace("{port}", str(daemon.port)).replace("{state}", str(daemon.state))
            .replace("{data}", str(daemon.state.parent)))


TENANT_USER_DATA = "\n".join([
    "echo from-user-data > /tmp/written-by-user-data",
    "sleep 3600 &",  # a workload of its own, for exec to see
])


@pytest.fixture(scope="module")
def world(make_daemon):
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    vpc, subnet = dual_stack_vpc(ec2)
    group = web_group(ec2, vpc["VpcId"], 80)
    [web] = launch(ec2, subnet, SecurityGroupIds=[group], UserData=httpd_user_data())
    [tenant] = launch(ec2, subnet, UserData=_probes(daemon) + TENANT_USER_DATA + "\n")
    return {"daemon": daemon, "ec2": ec2, "web": web, "tenant": tenant,
            "instances": Instances(daemon.state.parent / "instances")}


def _results(text: str) -> dict[str, str]:
    return dict(re.findall(r"^probe (\S+) (held|ESCAPED)$", text, re.MULTILINE))


def _console(world) -> str:
    # botocore decodes the base64 Output
    return world["ec2"].get_console_output(InstanceId=world["tenant"]["InstanceId"]).get(
        "Output", "")


def test_every_escape_fails_from_user_data(world):
    # the probes' last line says they are done
    console = wait_for(lambda: (text := _console(world))
                       and re.search(r"^processes \d+$", text, re.MULTILINE) and text)
    results = _results(console)
    assert len(results) == PROBES.count("\nprobe "), console
    assert {name for name, result in results.items() if result != "held"} == set(), console
    assert re.search(r"^hostname ip-10-0-1-\d+$", console, re.MULTILINE), console
    assert re.search(r"^uid 0$", console, re.MULTILINE), console  # root, inside


def test_every_escape_fails_from_exec(world):
    done = run_in(world["tenant"]["InstanceId"], "sh", "-c", _probes(world["daemon"]))
    assert done.returncode == 0, done.stderr
    results = _results(done.stdout)
    assert len(results) == PROBES.count("\nprobe "), done.stdout
    assert {name for name, result in results.items() if result != "held"} == set(), done.stdout
    hostname = re.search(r"^hostname (\S+)$", done.stdout, re.MULTILINE)
    assert hostname and hostname.group(1) == "ip-" + \
        world["tenant"]["PrivateIpAddress"].replace(".", "-")


def test_exec_enters_the_sandbox_user_data_runs_in(world):
    tenant = world["tenant"]["InstanceId"]
    assert run_in(tenant, "cat", "/tmp/written-by-user-data").stdout == "from-user-data\n"
    shown = run_in(tenant, "ps", "-eo", "pid,args").stdout
    assert "sleep 3600" in shown  # UserData's workload, in the same PID namespace
    pids = [int(line.split()[0]) for line in shown.splitlines()[1:]]
    assert 1 in pids and max(pids) < 1000, shown  # its own PID namespace, from 1
    assert "pocketlink" not in shown  # neither the daemon nor the test


# Linux's capability numbers (linux/capability.h) of the sandbox's CAPABILITIES.
CAPABILITY_BITS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_FSETID": 4,
                   "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
                   "CAP_SYS_CHROOT": 18}


def test_exec_gets_its_own_ipc_hosts_and_resolver_no_new_privileges_and_only_its_capabilities(
        world):
    """The rest of the sandbox the issue lists, as ``exec`` (and UserData, entering the same
    sandbox) sees it: an IPC namespace that is not the host's, its own /etc/hosts and
    resolv.conf (the VPC's resolver), no new privileges, and no capability beyond
    ``sandbox.CAPABILITIES`` even in its bounding set."""
    tenant = world["tenant"]
    instance_id, address = tenant["InstanceId"], tenant["PrivateIpAddress"]
    inside = run_in(instance_id, "readlink", "/proc/self/ns/ipc").stdout.strip()
    assert inside.startswith("ipc:[") and inside != os.readlink("/proc/self/ns/ipc")
    hosts = run_in(instance_id, "cat", "/etc/hosts").stdout
    assert f"{address} ip-{address.replace('.', '-')}" in hosts, hosts
    resolv = run_in(instance_id, "cat", "/etc/resolv.conf").stdout
    assert resolv == (Path("/etc/netns") / f"pl-{instance_id}" / "resolv.conf").read_text()
    status = dict(line.split(":", 1) for line in run_in(
        instance_id, "cat", "/proc/self/status").stdout.splitlines() if ":" in line)
    assert status["NoNewPrivs"].strip() == "1"
    allowed = sum(1 << CAPABILITY_BITS[c] for c in sandbox.CAPABILITIES)
    for kind in ("CapEff", "CapPrm", "CapBnd"):
        assert int(status[kind], 16) & ~allowed == 0, (kind, status[kind])


def test_instances_do_not_share_files(world):
    web, tenant = world["web"]["InstanceId"], world["tenant"]["InstanceId"]
    assert run_in(web, "sh", "-c", "echo mine > /tmp/private").returncode == 0
    assert run_in(tenant, "test", "-e", "/tmp/private").returncode == 1
    assert run_in(tenant, "test", "-e", "/tmp/written-by-user-data").returncode == 0
    assert run_in(web, "test", "-e", "/tmp/written-by-user-data").returncode == 1


def test_root_inside_is_an_unprivileged_uid_outside(world):
    namespace = f"pl-{world['tenant']['InstanceId']}"
    pids = processes.pids_in(namespace)
    assert pids
    for pid in pids:
        uids = Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[:4]
        assert all(int(u) >= sandbox.ROOT_INSIDE for u in uids), (pid, uids)
    assert run_in(world["tenant"]["InstanceId"], "id", "-u").stdout == "0\n"


def test_apache_on_port_80_answers_another_instance(world):
    web, tenant = world["web"], world["tenant"]["InstanceId"]
    page = wait_for(lambda: run_in(tenant, "curl", "-s", "-m", "3",
                                   f"http://{web['PrivateIpAddress']}/").stdout)
    name = "ip-" + web["PrivateIpAddress"].replace(".", "-")
    assert page == f"<h1>Hello World from {name}.us-west-2.compute.internal</h1>\n"
    assert "apache2" in run_in(web["InstanceId"], "ps", "-eo", "args").stdout
    # httpd's log is inside the instance, and the host finds it in the instance's folder.
    log = world["instances"].path(web["InstanceId"], ACCESS_LOG).read_text()
    assert '"GET / HTTP/1.1" 200' in log and "curl/" in log


def test_the_tools_the_seeds_use_run_inside(world):
    tenant = world["tenant"]["InstanceId"]
    for command in (["dig", "+short", "-x", world["web"]["PrivateIpAddress"]],
                    ["haproxy", "-v"], ["python3", "-c", "print('ok')"],
                    ["aws", "--version"]):  # the image's (Debian's awscli)
        done = run_in(tenant, *command)
        assert done.returncode == 0, (command, done.stderr)


def test_files_outlive_a_stop_and_start_and_user_data_runs_once(world):
    ec2, tenant = world["ec2"], world["tenant"]["InstanceId"]
    namespace = f"pl-{tenant}"
    before = sandbox.init_of(namespace)
    assert run_in(tenant, "sh", "-c", "echo kept > /var/tmp/kept").returncode == 0
    ec2.stop_instances(InstanceIds=[tenant])
    wait_for(lambda: ec2.describe_instances(InstanceIds=[tenant])["Reservations"][0][
        "Instances"][0]["State"]["Name"] == "stopped")
    assert sandbox.init_of(namespace) is None
    assert run_in(tenant, "true").returncode != 0
    ec2.start_instances(InstanceIds=[tenant])
    wait_for(lambda: run_in(tenant, "true").returncode == 0)
    assert sandbox.init_of(namespace) != before  # a new sandbox ...
    assert run_in(tenant, "cat", "/var/tmp/kept").stdout == "kept\n"  # ... the same disk
    assert "sleep 3600" not in run_in(tenant, "ps", "-eo", "args").stdout  # UserData: once


def test_the_data_dir_is_hidden_where_nothing_else_hides_it(tmp_path):
    # Under a private folder (/tmp, /root ...): the sandbox has its own there.
    assert Path("/tmp/pocketlink-x") not in sandbox.hidden_paths(Path("/tmp/pocketlink-x"))
    # Behind a folder strangers cannot pass: nothing to hide.
    locked = Path("/dev/shm") / f"pocketlink-test-{os.getpid()}"
    (locked / "data").mkdir(parents=True)
    try:
        locked.chmod(0o700)
        assert locked / "data" not in sandbox.hidden_paths(locked / "data")
        locked.chmod(0o755)
        assert locked / "data" in sandbox.hidden_paths(locked / "data")
    finally:
        (locked / "data").rmdir()
        locked.rmdir()
