"""What happens to the network across instance state changes, daemon crashes and down."""

from __future__ import annotations

import subprocess
import sys

from pocketlink.instances import processes
from pocketlink.network import netns
from tests.conftest import PROVIDER, settled, wait_for
from tests.network.conftest import WEB_PORT, WEB_USER_DATA, curl, dual_stack_vpc, launch, run_in, web_group


def _web_pair(ec2) -> tuple[dict, dict]:
    vpc, subnet = dual_stack_vpc(ec2)
    group = web_group(ec2, vpc["VpcId"])
    [web] = launch(ec2, subnet, SecurityGroupIds=[group], UserData=WEB_USER_DATA)
    [client] = launch(ec2, subnet)
    return web, client


def _answers(client: dict, web: dict) -> bool:
    return "Hello" in curl(client["InstanceId"],
                           f"http://{web['PrivateIpAddress']}:{WEB_PORT}/").stdout


def test_sigkill_and_restart_keep_instances_running_and_repair_the_network(make_daemon):
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    web, client = _web_pair(ec2)
    wait_for(lambda: _answers(client, web))
    pids = processes.pids_in(f"pl-{web['InstanceId']}")
    assert pids

    daemon.stop(kill=True)
    assert _answers(client, web)  # the network does not need the daemon to carry bytes
    # Break something while the daemon is away: the client's link to its subnet.
    veth = subprocess.run(["ip", "-n", f"pl-{web['VpcId']}", "-o", "link"],
                          capture_output=True, text=True).stdout
    client_eni = client["NetworkInterfaces"][0]["NetworkInterfaceId"]
    from pocketlink.network import names

    assert names.veth(client_eni) in veth
    subprocess.run(["ip", "-n", f"pl-{web['VpcId']}", "link", "del", names.veth(client_eni)],
                   check=True)
    assert not _answers(client, web)

    daemon.start()
    wait_for(lambda: _answers(client, web))
    assert processes.pids_in(f"pl-{web['InstanceId']}") == pids  # the same web server
    states = settled(ec2, [web["InstanceId"], client["InstanceId"]])
    assert set(states.values()) == {"running"}


def test_stop_ends_the_processes_and_terminate_removes_the_namespace(make_daemon):
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    web, client = _web_pair(ec2)
    wait_for(lambda: _answers(client, web))
    namespace = f"pl-{web['InstanceId']}"
    server = processes.pids_in(namespace)
    assert server

    ec2.stop_instances(InstanceIds=[web["InstanceId"]])
    assert settled(ec2, [web["InstanceId"]]) == {web["InstanceId"]: "stopped"}
    assert not set(server) & set(processes.pids_in(namespace))
    assert not _answers(client, web)

    ec2.start_instances(InstanceIds=[web["InstanceId"]])
    assert settled(ec2, [web["InstanceId"]]) == {web["InstanceId"]: "running"}
    assert run_in(web["InstanceId"], "true").returncode == 0

    ec2.terminate_instances(InstanceIds=[web["InstanceId"]])
    assert settled(ec2, [web["InstanceId"]]) == {web["InstanceId"]: "terminated"}
    assert namespace not in netns.ours()
    gone = run_in(web["InstanceId"], "true")
    assert gone.returncode != 0 and "no namespace" in gone.stderr


def test_down_removes_everything_the_daemon_made(make_daemon):
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, "us-west-2")
    web, client = _web_pair(ec2)
    owned = netns.ours(str(daemon.state.resolve()))
    assert {f"pl-{web['InstanceId']}", f"pl-{client['InstanceId']}",
            f"pl-{web['VpcId']}"} <= owned
    done = subprocess.run([sys.executable, "-m", "pocketlink", "down", "--port", str(daemon.port),
                           "--state", str(daemon.state), "--purge"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    daemon.process.wait(timeout=30)  # it was asked to stop, and did
    daemon.process = None
    assert not owned & netns.ours()
    assert not any((netns.ETC_NETNS / n).exists() for n in owned)
    assert not daemon.state.exists()
    root_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert " pl" not in root_links
