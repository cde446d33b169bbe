"""The AWS wire protocols, generic and driven by botocore's own service models.

Nouns, one job each:

- ``ServiceSpec`` (specs.py): one AWS service's model, with pocketlink's patches applied.
- ``HttpRequest``, ``HttpResponse`` (message.py): the HTTP exchange as plain data.
- ``ServiceError`` (errors.py): an AWS error as an exception; EC2's codes and their
  messages (``EC2_ERRORS``), one class each.
- ``RequestParser`` (parser.py): an HTTP request becomes ``(operation, params)``; the ec2,
  query, rest-xml and json protocols.
- ``ResponseSerializer`` (serializer.py): a result dict or a ``ServiceError`` becomes an HTTP response.
- rpc.py: the document protocols, ``json`` and ``smithy-rpc-v2-cbor`` (CloudWatch speaks
  both beside ``query``; ``protocol_of`` says which a request came in).
- rest_json.py: ``rest-json`` (FIS), rest-xml's routing with a JSON body.
- ``route`` (router.py): which service a request is for, from its SigV4 credential scope.
- ``sigv4`` (sigv4.py): who signed a request, and whether the signature holds.
- ``integer`` (numbers.py): a number written as text, read as AWS reads it (ASCII digits);
  what handlers, the metadata service and the console read numbers with.

This package knows no resource: it never imports ``pocketlink.api``.
"""
