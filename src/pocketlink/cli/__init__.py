"""The ``pocketlink`` command: ``up`` runs the daemon, ``status`` asks it what it holds."""
