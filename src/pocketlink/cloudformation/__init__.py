"""CloudFormation: the engine that turns a template into resources through pocketlink's own
API, and back. The service's handlers are in ``pocketlink.api.cloudformation_*``.

Nouns, one job each:

- ``template`` (template.py): a template's text as data, JSON or YAML (short-form tags,
  dates kept as strings, no aliases), its sections' shapes checked.
- ``intrinsics`` (intrinsics.py): ``Scope`` (what names mean) and ``resolve``: every
  intrinsic function, conditions and rule functions; ``Unknown`` for what a change set
  cannot know yet.
- ``parameters`` (parameters.py): the parameters' values, checked by type, constraint and
  against the account's resources (``AWS::EC2::VPC::Id``...), the pseudo parameters, Rules.
- ``plan`` (plan.py): the resources the conditions keep, their order (graphlib), and a change
  set's Add / Modify / Remove with Replacement from the create-only properties.
- ``schemas`` (schemas.py, schemas.json): each type's primary identifier, read-only and
  create-only properties, trimmed from the registry schemas cfn-lint ships.
- ``Engine`` (engine.py): runs a create, update or delete: resources concurrently in graph
  order, replacements, cleanup, rollback, DeletionPolicy/UpdateReplacePolicy.
- ``events`` (events.py): each status change of a stack or resource, with its event.
- ``Api`` (calls.py): what a provider calls: the API handlers in-process, the backend's
  services (S3, SSM, IAM...) through botocore's serializers, and ``until`` (wait for the
  store to say something is true).
- ``template_url`` (template_url.py): a TemplateURL's S3 object, read from the backend.
- ``providers`` (providers/): one module per resource type, found by ``providers()``.
- ``errors`` (errors.py): CloudFormation's error classes, and ``ValidationError``, which
  its model does not list but which answers most bad requests.

The engine never knows a resource's details; a provider never knows a template's.
"""
