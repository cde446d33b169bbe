"""AWS Fault Injection Service: experiment templates, experiments run from them, and the
actions and target resource types pocketlink performs (``faults/fis_catalog.py``).

A template naming an action pocketlink cannot perform, a target it cannot resolve, or a
stop condition on a CloudWatch alarm (pocketlink serves no alarms) is refused with FIS's
ValidationException and says why. StartExperiment records an ``initiating`` experiment;
``faults/experiments.py`` runs it. IAM is not asked: the role ARN is kept as given.
Messages AWS's documentation does not spell out are pocketlink's words.
"""

from __future__ import annotations

import secrets
import string
from types import SimpleNamespace

from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.faults.fis_catalog import (
    ACTIONS,
    MAX_DURATION,
    RESOURCE_TYPES,
    duration,
    valid_selection,
)
from pocketlink.model.base import now
from pocketlink.model.fis import FINAL, Experiment, ExperimentAction, ExperimentTemplate
from pocketlink.wire import specs
from pocketlink.wire.numbers import integer

fis = SimpleNamespace(**specs.load("fis").errors)
MAX_TAGS = 50
_ALPHABET = string.ascii_letters + string.digits
DEFAULT_OPTIONS = {"accountTargeting": "single-account", "emptyTargetResolutionMode": "fail"}


def _new_id(prefix: str) -> str:
    """FIS's ids: EXT (templates) or EXP (experiments) and 14 letters or digits."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def _invalid(message: str) -> Exception:
    return fis.ValidationException(message)


def _check_stop_conditions(conditions: list[dict]) -> list[dict]:
    for condition in conditions:
        source = condition["source"]
        if source == "aws:cloudwatch:alarm":
            raise _invalid("Stop condition source aws:cloudwatch:alarm is not supported by "
                           "pocketlink: it serves no CloudWatch alarms. Use source 'none'.")
        if source != "none":
            raise _invalid(f"Stop condition source {source} is not valid: it must be "
                           "'none' or 'aws:cloudwatch:alarm'.")
        if condition.get("value"):
            raise _invalid("A stop condition of source 'none' takes no value.")
    return [{"source": c["source"]} for c in conditions]


def _check_targets(targets: dict[str, dict]) -> dict[str, dict]:
    for name, target in targets.items():
        kind = target["resourceType"]
        if kind not in RESOURCE_TYPES:
            raise _invalid(f"Target {name}: resource type {kind} is not supported by "
                           f"pocketlink (it resolves {', '.join(RESOURCE_TYPES)}).")
        if bool(target.get("resourceArns")) == bool(target.get("resourceTags")):
            raise _invalid(f"Target {name}: specify either resourceArns or resourceTags, "
                           "not both and not neither.")
        if not valid_selection(target["selectionMode"]):
            raise _invalid(f"Target {name}: selection mode {target['selectionMode']} is not "
                           "valid: use ALL, COUNT(n) or PERCENT(n).")
        if target.get("parameters"):
            raise _invalid(f"Target {name}: {kind} takes no target parameters in pocketlink.")
    return targets


def _check_parameters(name: str, action: dict) -> None:
    known = ACTIONS[action["actionId"]]
    given = action.get("parameters") or {}
    for parameter in given:
        if parameter not in known.parameters:
            raise _invalid(f"Action {name}: {action['actionId']} has no parameter "
                           f"{parameter}.")
    for parameter, (_, required) in known.parameters.items():
        if required and parameter not in given:
            raise _invalid(f"Action {name}: {action['actionId']} requires the parameter "
                           f"{parameter}.")
    for parameter in known.durations:
        if parameter in given:
            lasting = duration(given[parameter])
            if lasting is None or not lasting or lasting > MAX_DURATION:
                raise _invalid(f"Action {name}: {parameter} {given[parameter]} is not a "
                               "duration of at most 12 hours in ISO 8601 format (PT5M).")
    if given.get("scope", "all") != "all":
        raise _invalid(f"Action {name}: scope {given['scope']} is not supported by "
                       "pocketlink (it denies scope 'all' only).")
    if given.get("completeIfInstancesTerminated", "false") not in ("true", "false"):
        raise _invalid(f"Action {name}: completeIfInstancesTerminated must be true or false.")


def _check_actions(actions: dict[str, dict], targets: dict[str, dict]) -> dict[str, dict]:
    if not actions:
        raise _invalid("An experiment template needs at least one action.")
    for name, action in actions.items():
        action_id = action["actionId"]
        if action_id not in ACTIONS:
            raise _invalid(f"Action {name}: {action_id} is not an action pocketlink can "
                           f"perform (it performs {', '.join(ACTIONS)}).")
        _check_parameters(name, action)
        wanted = ACTIONS[action_id].target
        given = action.get("targets") or {}
        if wanted is None and given:
            raise _invalid(f"Action {name}: {action_id} takes no targets.")
        if wanted is not None:
            key, kind = wanted
            if set(given) != {key}:
                raise _invalid(f"Action {name}: {action_id} takes one target, {key}.")
            if given[key] not in targets:
                raise _invalid(f"Action {name}: target {given[key]} is not defined in the "
                               "template.")
            if targets[given[key]]["resourceType"] != kind:
                raise _invalid(f"Action {name}: target {given[key]} must be of resource "
                               f"type {kind}.")
        for earlier in action.get("startAfter") or []:
            if earlier not in actions or earlier == name:
                raise _invalid(f"Action {name}: startAfter names {earlier}, which is not "
                               "another action of the template.")
    _check_order(actions)
    return actions


def _check_order(actions: dict[str, dict]) -> None:
    """startAfter may not loop: every action must be reachable from those with none."""
    done: set[str] = set()
    while len(done) < len(actions):
        ready = {n for n, a in actions.items() if n not in done and
                 set(a.get("startAfter") or []) <= done}
        if not ready:
            raise _invalid("The actions' startAfter lists form a cycle.")
        done |= ready


def _check_options(options: dict) -> dict:
    if options.get("accountTargeting", "single-account") != "single-account":
        raise _invalid("Multi-account experiments are not supported by pocketlink.")
    return {**DEFAULT_OPTIONS, **options}


def _check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise _invalid(f"A resource can have at most {MAX_TAGS} tags.")
    return tags


def _refuse_unserved(params: dict) -> None:
    for name in ("logConfiguration", "experimentReportConfiguration"):
        if params.get(name):
            raise _invalid(f"{name} is not supported by pocketlink: it keeps no experiment "
                           "logs or reports.")


def _template_out(template: ExperimentTemplate) -> dict:
    return {"id": template.id, "arn": template.arn, "description": template.description,
            "targets": template.targets, "actions": template.actions,
            "stopConditions": template.stop_conditions, "creationTime": template.created,
            "lastUpdateTime": template.last_update or template.created,
            "roleArn": template.role_arn, "tags": template.tags,
            "experimentOptions": template.experiment_options,
            "targetAccountConfigurationsCount": 0}


def _mine(context: RequestContext, kind: type, resource_id: str, what: str):
    found = context.store.get(kind, resource_id)
    if found is None or (found.account, found.region) != (context.account, context.region):
        raise fis.ResourceNotFoundException(f"{what} {resource_id} not found.")
    return found


@operation("fis", "CreateExperimentTemplate")
def create_experiment_template(context: RequestContext, params: dict) -> dict:
    for earlier in context.store.all(ExperimentTemplate):
        if (earlier.account, earlier.region, earlier.client_token) == \
                (context.account, context.region, params["clientToken"]):
            return {"experimentTemplate": _template_out(earlier)}
    _refuse_unserved(params)
    targets = _check_targets(params.get("targets") or {})
    template = ExperimentTemplate(
        id=_new_id("EXT"), account=context.account, region=context.region,
        tags=_check_tags(params.get("tags") or {}), description=params["description"],
        role_arn=params["roleArn"], targets=targets,
        actions=_check_actions(params.get("actions") or {}, targets),
        stop_conditions=_check_stop_conditions(params["stopConditions"]),
        experiment_options=_check_options(params.get("experimentOptions") or {}),
        client_token=params["clientToken"])
    with context.store.transaction() as tx:
        tx.put(template)
    return {"experimentTemplate": _template_out(template)}


@operation("fis", "GetExperimentTemplate")
def get_experiment_template(context: RequestContext, params: dict) -> dict:
    template = _mine(context, ExperimentTemplate, params["id"], "Experiment template")
    return {"experimentTemplate": _template_out(template)}


def _page(items: list, params: dict, key: str) -> dict:
    start = 0
    if params.get("nextToken"):
        start = integer(params["nextToken"])
        if start is None or start > len(items):
            raise _invalid("The nextToken is not valid.")
    size = params.get("maxResults") or 100
    result: dict = {key: items[start:start + size]}
    if start + size < len(items):
        result["nextToken"] = str(start + size)
    return result


def _owned(context: RequestContext, kind: type) -> list:
    return sorted((r for r in context.store.all(kind)
                   if (r.account, r.region) == (context.account, context.region)),
                  key=lambda r: r.created)


@operation("fis", "ListExperimentTemplates")
def list_experiment_templates(context: RequestContext, params: dict) -> dict:
    return _page([{"id": t.id, "arn": t.arn, "description": t.description,
                   "creationTime": t.created, "lastUpdateTime": t.last_update or t.created,
                   "tags": t.tags} for t in _owned(context, ExperimentTemplate)],
                 params, "experimentTemplates")


@operation("fis", "UpdateExperimentTemplate")
def update_experiment_template(context: RequestContext, params: dict) -> dict:
    template = _mine(context, ExperimentTemplate, params["id"], "Experiment template")
    _refuse_unserved(params)
    targets = _check_targets(params["targets"]) if "targets" in params else template.targets
    actions = _check_actions(params.get("actions", template.actions), targets)
    with context.store.transaction() as tx:
        mine = tx.edit(ExperimentTemplate, template.id)
        mine.targets, mine.actions = targets, actions
        if "description" in params:
            mine.description = params["description"]
        if "roleArn" in params:
            mine.role_arn = params["roleArn"]
        if "stopConditions" in params:
            mine.stop_conditions = _check_stop_conditions(params["stopConditions"])
        if "experimentOptions" in params:
            mine.experiment_options = _check_options(
                {**template.experiment_options, **params["experimentOptions"]})
        mine.last_update = now()
    return {"experimentTemplate": _template_out(mine)}


@operation("fis", "DeleteExperimentTemplate")
def delete_experiment_template(context: RequestContext, params: dict) -> dict:
    template = _mine(context, ExperimentTemplate, params["id"], "Experiment template")
    with context.store.transaction() as tx:
        tx.delete(template)
    return {"experimentTemplate": _template_out(template)}


def _experiment_out(experiment: Experiment) -> dict:
    state: dict = {"status": experiment.status, "reason": experiment.reason}
    if experiment.error_code:
        state["error"] = {"accountId": experiment.account, "code": experiment.error_code,
                          "location": experiment.error_location}
    return {"id": experiment.id, "arn": experiment.arn,
            "experimentTemplateId": experiment.template_id, "roleArn": experiment.role_arn,
            "state": state, "targets": experiment.targets,
            "actions": {name: _action_out(a) for name, a in experiment.actions.items()},
            "stopConditions": experiment.stop_conditions, "creationTime": experiment.created,
            "startTime": experiment.start_time, "endTime": experiment.end_time,
            "tags": experiment.tags, "experimentOptions": experiment.experiment_options,
            "targetAccountConfigurationsCount": 0}


def _action_out(action: ExperimentAction) -> dict:
    out: dict = {"actionId": action.action_id, "parameters": action.parameters,
                 "targets": action.targets, "startAfter": action.start_after,
                 "state": {"status": action.status, "reason": action.reason},
                 "startTime": action.start_time, "endTime": action.end_time}
    if action.description:
        out["description"] = action.description
    return out


@operation("fis", "StartExperiment")
def start_experiment(context: RequestContext, params: dict) -> dict:
    for earlier in _owned(context, Experiment):
        if earlier.client_token == params["clientToken"]:
            return {"experiment": _experiment_out(earlier)}
    template = _mine(context, ExperimentTemplate, params["experimentTemplateId"],
                     "Experiment template")
    mode = (params.get("experimentOptions") or {}).get("actionsMode", "run-all")
    actions = {name: ExperimentAction(
        action_id=a["actionId"], description=a.get("description", ""),
        parameters=a.get("parameters") or {}, targets=a.get("targets") or {},
        start_after=a.get("startAfter") or [],
        **({"status": "skipped", "reason": "actionsMode is skip-all."}
           if mode == "skip-all" else {}))
        for name, a in template.actions.items()}
    experiment = Experiment(
        id=_new_id("EXP"), account=context.account, region=context.region,
        tags=_check_tags(params.get("tags") or {}), template_id=template.id,
        role_arn=template.role_arn, targets=template.targets, actions=actions,
        stop_conditions=template.stop_conditions,
        experiment_options={**template.experiment_options, "actionsMode": mode},
        client_token=params["clientToken"])
    with context.store.transaction() as tx:
        tx.put(experiment)
    return {"experiment": _experiment_out(experiment)}


@operation("fis", "GetExperiment")
def get_experiment(context: RequestContext, params: dict) -> dict:
    return {"experiment": _experiment_out(_mine(context, Experiment, params["id"],
                                                "Experiment"))}


@operation("fis", "ListExperiments")
def list_experiments(context: RequestContext, params: dict) -> dict:
    wanted = params.get("experimentTemplateId")
    return _page([{"id": e.id, "arn": e.arn, "experimentTemplateId": e.template_id,
                   "state": {"status": e.status, "reason": e.reason},
                   "creationTime": e.created, "tags": e.tags,
                   "experimentOptions": e.experiment_options}
                  for e in _owned(context, Experiment) if wanted in (None, e.template_id)],
                 params, "experiments")


@operation("fis", "StopExperiment")
def stop_experiment(context: RequestContext, params: dict) -> dict:
    experiment = _mine(context, Experiment, params["id"], "Experiment")
    if experiment.status in FINAL or experiment.status == "stopping":
        raise _invalid(f"Experiment {experiment.id} is {experiment.status}: it cannot be "
                       "stopped.")
    with context.store.transaction() as tx:
        mine = tx.edit(Experiment, experiment.id)
        mine.status, mine.reason = "stopping", "Experiment is stopping."
    return {"experiment": _experiment_out(mine)}


def _action_arn(context: RequestContext, action_id: str) -> str:
    return f"arn:aws:fis:{context.region}::action/{action_id}"  # the form is a guess


def _action_targets(action_id: str) -> dict:
    target = ACTIONS[action_id].target
    return {target[0]: {"resourceType": target[1]}} if target else {}


@operation("fis", "ListActions")
def list_actions(context: RequestContext, params: dict) -> dict:
    return _page([{"id": i, "arn": _action_arn(context, i), "description": a.description,
                   "targets": _action_targets(i), "tags": {}} for i, a in ACTIONS.items()],
                 params, "actions")


@operation("fis", "GetAction")
def get_action(context: RequestContext, params: dict) -> dict:
    action_id = params["id"]
    if action_id not in ACTIONS:
        raise fis.ResourceNotFoundException(f"Action {action_id} not found.")
    action = ACTIONS[action_id]
    return {"action": {"id": action_id, "arn": _action_arn(context, action_id),
                       "description": action.description,
                       "parameters": {n: {"description": d, "required": r}
                                      for n, (d, r) in action.parameters.items()},
                       "targets": _action_targets(action_id), "tags": {}}}


@operation("fis", "ListTargetResourceTypes")
def list_target_resource_types(context: RequestContext, params: dict) -> dict:
    return _page([{"resourceType": k, "description": d} for k, d in RESOURCE_TYPES.items()],
                 params, "targetResourceTypes")


def _tagged(context: RequestContext, arn: str) -> ExperimentTemplate | Experiment:
    for kind in (ExperimentTemplate, Experiment):
        for found in _owned(context, kind):
            if found.arn == arn:
                return found
    raise fis.ResourceNotFoundException(f"Resource {arn} not found.")


@operation("fis", "TagResource")
def tag_resource(context: RequestContext, params: dict) -> dict:
    found = _tagged(context, params["resourceArn"])
    with context.store.transaction() as tx:
        mine = tx.edit(type(found), found.id)
        mine.tags = _check_tags({**mine.tags, **params["tags"]})
    return {}


@operation("fis", "UntagResource")
def untag_resource(context: RequestContext, params: dict) -> dict:
    found = _tagged(context, params["resourceArn"])
    with context.store.transaction() as tx:
        mine = tx.edit(type(found), found.id)
        mine.tags = {k: v for k, v in mine.tags.items()
                     if k not in (params.get("tagKeys") or [])}
    return {}


@operation("fis", "ListTagsForResource")
def list_tags_for_resource(context: RequestContext, params: dict) -> dict:
    return {"tags": _tagged(context, params["resourceArn"]).tags}
