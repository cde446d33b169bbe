"""``pocketlink fault ...``: inject, list and clear faults through the daemon's control
socket (only the user who started the daemon may)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlencode

from pocketlink.model.faults import ACTIONS

HELP = {
    "lose-az": "lose a zone: its NLB nodes, endpoint ENIs and instances stop answering, "
               "and the names AWS publishes drop its addresses",
    "kill-target": "an instance refuses every connection (RST), as when its server died",
    "hang-target": "stop (SIGSTOP) every process of an instance",
    "latency": "delay every packet delivered to an instance's ENI (tc netem)",
    "loss": "drop a share of the packets routed to an instance's ENI, at random",
    "stop-resolver": "the VPC's resolver (AmazonProvidedDNS) stops answering",
    "disrupt-subnet": "a subnet's traffic to and from outside it is dropped, as a network "
                      "ACL denying all would (FIS's aws:network:disrupt-connectivity)",
}


def add_parser(commands, state_help: str) -> None:
    fault = commands.add_parser("fault", help="break something on purpose, list what is "
                                              "broken, and mend it (pocketlink's own)")
    verbs = fault.add_subparsers(dest="verb", required=True)
    for action, (name, takes) in ACTIONS.items():
        verb = verbs.add_parser(action, help=HELP[action])
        verb.add_argument(f"--{name}", required=True, dest="target", metavar=name.upper())
        if takes is not None:
            verb.add_argument(f"--{takes[0]}", required=True, dest="value",
                              metavar=f"{takes[1]}..{takes[2]}")
    verbs.add_parser("list", help="the faults injected")
    clear = verbs.add_parser("clear", help="end one fault, or all")
    clear.add_argument("id", nargs="?", default=None)
    for verb in verbs.choices.values():
        verb.add_argument("--state", type=Path, default=None, help=state_help)


def _line(fault: dict) -> str:
    value = fault["value"]
    unit = "ms" if fault["action"] == "latency" else "%"
    return f"{fault['id']}  {fault['action']:<13} {fault['target']}" + \
        (f" {value}{unit}" if value is not None else "") + f"  since {fault['created']}" + \
        (f"  (FIS experiment {fault['experiment']})" if fault.get("experiment") else "")


def run(args: argparse.Namespace, state: Path) -> int:
    from pocketlink.gateway import control

    record = control.RuntimeRecord.read(state)
    if record is None:
        print(control.not_running(state))
        return 2
    try:
        if args.verb == "list":
            faults = control.ask(record, "GET", "/_pocketlink/faults")["faults"]
            print("\n".join(_line(f) for f in faults) if faults else "no faults")
        elif args.verb == "clear":
            query = urlencode({"id": args.id} if args.id else {})
            cleared = control.ask(record, "POST", f"/_pocketlink/faults/clear?{query}")
            print("\n".join(f"cleared {_line(f)}" for f in cleared["cleared"]) or "no faults")
        else:
            name, takes = ACTIONS[args.verb]
            form = {"action": args.verb, name: args.target}
            if takes is not None:
                form[takes[0]] = args.value
            made = control.ask(record, "POST", f"/_pocketlink/faults?{urlencode(form)}")
            print(_line(made["fault"]))
    except control.Refused as error:
        print(f"pocketlink fault: {error.reason}", file=sys.stderr)
        return 1
    except OSError as error:
        print(control.unanswered("fault", state, error), file=sys.stderr)
        return 2
    return 0
