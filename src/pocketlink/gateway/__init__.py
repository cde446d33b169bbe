"""The front door: HTTP in, AWS responses out.

- ``Gateway`` (dispatch.py): one request -> route, identify, parse, call the handler,
  serialize; every failure becomes an AWS error, never a traceback. A request for a
  service of the backend (services/) is forwarded there instead, with its account.
- ``Credentials`` (identity.py): which account an access key acts for, and its secret.
- ``serve`` (http.py): the asyncio HTTP/1.1 server (httptools) around the gateway.
"""
