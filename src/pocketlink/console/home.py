"""The console's home (its areas, as AWS's console home lists services) and, with
``--strict-auth``, signing in with an access key (checked with STS GetCallerIdentity, the
call ``aws sts get-caller-identity`` makes)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pocketlink.console.layout import NAVIGATION, Page
from pocketlink.console.markup import esc, form, link, text_field
from pocketlink.console.routing import get, post
from pocketlink.console.view import Redirect


@get("")
def home(view) -> Page:
    areas = []
    for heading, items in NAVIGATION:
        links = "".join(f"<li>{link(path, label)}</li>" for path, label in items)
        areas.append(f'<section class="panel"><h2>{esc(heading)}</h2><ul>{links}</ul></section>')
    intro = (f"<p>Acting as account <strong>{esc(view.session.account)}</strong> in "
             f"<strong>{esc(view.session.region)}</strong>. Every page is made of the AWS API "
             "calls the CLI would send, signed with this account's key.</p>")
    return Page("Console home", intro + f'<div class="areas">{"".join(areas)}</div>')


@get("sign-in")
def sign_in_form(view) -> Page:
    body = ("<p>This pocketlink checks signatures (<code>--strict-auth</code>): sign in with an "
            "access key of its credentials file.</p>" + form(
                "sign-in",
                text_field("access_key", "Access key ID", view.value("access_key"),
                           required=True),
                text_field("secret_key", "Secret access key", "", required=True,
                           kind="password"),
                submit="Sign in", label="Sign in"))
    return Page("Sign in", body, status=200 if view.posted or not view.strict else 401)


@post("sign-in")
def sign_in(view):
    key, secret = view.value("access_key").strip(), view.value("secret_key")
    try:
        who = view.clients.get("sts", key, secret, view.session.region).get_caller_identity()
    except ClientError as error:
        view.failed(error)
        return sign_in_form(view)
    view.session = view.session.signed_in(who["Account"], key, secret)
    return Redirect("", f"Signed in as account {who['Account']}")


@post("sign-out")
def sign_out(view):
    view.session = view.session.signed_out()
    return Redirect("sign-in")
