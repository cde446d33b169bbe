"""pocketlink: AWS PrivateLink on one Linux machine, with traffic that really flows."""

__version__ = "0.1.0"
