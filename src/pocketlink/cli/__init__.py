"""The ``pocketlink`` command (main.py): ``up`` runs the daemon, ``status`` asks it what it holds,
``exec`` runs a command inside an instance, ``down`` stops it and removes what it made, ``demo``
builds seed 000's world through the API.
"""
