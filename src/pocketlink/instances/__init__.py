"""What makes a network namespace an instance: the sandbox its processes live in, its
UserData, its console output.

Nouns, one job each:

- ``sandbox`` (sandbox.py): bubblewrap inside the instance's network namespace: its own
  user, mount, PID, UTS and IPC namespaces, the host's root read-only, private /tmp, /var,
  /home and /root kept in the instance's folder; how to enter it.
- ``userdata`` (userdata.py): ``Instances``: each instance's folder, its boot (the sandbox
  up, UserData once in its life), its console log.
- ``cpu`` (cpu.py): each instance's CPU cgroup, weighted below pocketlink's own
  processes, as EC2's instances have vCPUs of their own.
- ``processes`` (processes.py): what runs in an instance, found by its network namespace,
  and its end.

The network an instance plugs into is ``pocketlink.network``'s; this package only runs
things inside it.
"""
