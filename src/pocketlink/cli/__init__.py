"""The ``pocketlink`` command (main.py): ``up`` runs the daemon, ``status`` asks it what it holds,
``exec`` runs a command inside an instance, ``diagnose`` says why an instance can or cannot
reach a name, ``fault`` breaks something on purpose (``pocketlink.faults.cli``), ``cost`` prices
the measured traffic, ``down`` stops the daemon and removes what it made, ``demo`` replays a
seed's story through the API.
"""
