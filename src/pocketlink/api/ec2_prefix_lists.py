"""The AWS-managed prefix lists of the gateway services (S3, DynamoDB), as the older
DescribePrefixLists shows them; the managed prefix list calls, AWS's lists and the
customer's, are ``ec2_managed_prefix_lists``."""

from __future__ import annotations

from pocketlink.api import filters, pages
from pocketlink.api.context import RequestContext
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.model.aws_services import PrefixList, gateway_prefix_lists


class _Row:
    def __init__(self, prefix_list: PrefixList) -> None:
        self.prefix_list = prefix_list
        self.tags: dict[str, str] = {}


PREFIX_LIST_FILTERS: dict[str, filters.Field] = {
    "prefix-list-id": lambda r: r.prefix_list.prefix_list_id,
    "prefix-list-name": lambda r: r.prefix_list.name,
    "owner-id": lambda r: "AWS",
}


def _selected(context: RequestContext, params: dict) -> list[_Row]:
    lists = gateway_prefix_lists(context.region)
    for wanted in params.get("PrefixListIds") or []:
        if not wanted.startswith("pl-"):
            raise ec2.InvalidPrefixListIDMalformed(wanted)
        if not any(p.prefix_list_id == wanted for p in lists):
            raise ec2.InvalidPrefixListIdNotFound(wanted)
    if params.get("PrefixListIds"):
        lists = [p for p in lists if p.prefix_list_id in params["PrefixListIds"]]
    return filters.apply([_Row(p) for p in lists], params.get("Filters"),  # type: ignore[arg-type]
                         PREFIX_LIST_FILTERS)


@operation("ec2", "DescribePrefixLists")
def describe_prefix_lists(context: RequestContext, params: dict) -> dict:
    chunk, more = pages.page(_selected(context, params), params)
    return {"PrefixLists": [{"PrefixListId": r.prefix_list.prefix_list_id,
                             "PrefixListName": r.prefix_list.name,
                             "Cidrs": list(r.prefix_list.cidrs)} for r in chunk], **more}
