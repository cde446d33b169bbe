"""The web console: the pages of the AWS consoles the seeds click through, served by the
daemon at ``/_pocketlink/console/`` on its API port.

The console is a client of the AWS API (the topology's live figures aside, below): every
read and every action is the EC2, ELBv2, Route 53, CloudFormation, CloudWatch or STS
request the CLI would send, signed with the chosen account's key and handed, as signed,
to the daemon's gateway in process (botocore's ``before-send``), so the console can do
nothing the API refuses, and the API's errors show in the page in AWS's words.

- ``app``: the ``Console``, one request start to finish: refuse a cross-site form, read
  the session, route, run the page in a worker thread (the event loop stays free: the page
  calls the API, which that loop answers), lay the page out.
- ``routing``: the URL patterns and the page that answers each.
- ``view``: what a page is given (``View``: the request, the session, the clients) and
  what it answers besides a page (``Redirect`` after a form that worked, ``Json``).
- ``session``: the account and region (a cookie; ``?account=&region=`` set it), and, with
  ``--strict-auth``, the access key and secret the user signed in with.
- ``aws``: botocore clients of the daemon's API, cached per key, region and service,
  whose signed requests the gateway answers in process: every page's and the topology's.
- ``markup``: escaping, tables, forms, flashes, status badges; ``layout``: the page around them.
- One module per console area: ``home``, ``vpc`` (VPCs, subnets, route tables, security
  groups), ``instances``, ``elb`` (load balancers, target groups), ``endpoint_services``,
  ``endpoints``, ``route53``, ``cloudformation``, ``reachability`` (Reachability
  Analyzer: ``pocketlink diagnose``'s walk, through EC2's network insights API).
- ``topology``, ``topology_read``, ``topology_build``, ``topology_page``: the network,
  drawn (SVG laid out here) with live flow counts: CloudWatch's metrics, read from the
  metrics sampler's sums in process (GetMetricData's hundreds of queries were half of a
  page's time), and per target the data plane's counters (no AWS API has those). The
  API's lists are kept while the store's change counter (daemon.py hands it over, as the
  sampler's totals) stays: a page asks again only after a change.
- ``static/``: the style sheets and the small scripts of progressive enhancement (live
  status, copy buttons, the topology's figures); nothing is loaded from anywhere else,
  nothing is inline (the pages' Content-Security-Policy).
"""
