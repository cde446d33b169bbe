"""The console's session cookie and URL patterns, without a daemon or a browser."""

from __future__ import annotations

from http.cookies import SimpleCookie

from pocketlink.console import endpoints, routing, session


def cookie_header(made: session.Session) -> str:
    """What a browser sends back of the Set-Cookie ``made.cookie()`` gave it."""
    jar = SimpleCookie(made.cookie())
    return f"{session.COOKIE}={jar[session.COOKIE].value}"


def test_the_query_sets_the_account_and_region_and_the_cookie_keeps_them():
    first = session.read("", {"account": "123456789012", "region": "us-west-2"}, strict=False)
    assert (first.account, first.region, first.changed) == ("123456789012", "us-west-2", True)
    assert "HttpOnly" in first.cookie() and "SameSite=Strict" in first.cookie()
    again = session.read(cookie_header(first), {}, strict=False)
    assert (again.account, again.region, again.changed) == ("123456789012", "us-west-2", False)
    assert again.signing_key == ("123456789012", session.UNCHECKED_SECRET)


def test_what_is_not_an_account_or_a_region_is_ignored():
    made = session.read("pocketlink_console=a=12&r=mars-1; other=x",
                        {"account": "1234", "region": "us-nowhere-9"}, strict=False)
    assert (made.account, made.region, made.changed) == ("000000000000", "us-east-1", False)
    assert session.read("pocketlink_console=\x00;;", {}, strict=False).account == "000000000000"


def test_under_strict_auth_the_key_signed_in_with_names_the_account():
    signed = session.read("", {}, strict=True).signed_in("111111111111", "AKIAX", "s3cr=t&")
    again = session.read(cookie_header(signed), {"account": "222222222222"}, strict=True)
    assert again.signing_key == ("AKIAX", "s3cr=t&")
    assert again.account == "111111111111"  # the query's account is not a key
    assert session.read(cookie_header(signed), {}, strict=False).access_key == ""
    assert again.signed_out().access_key == "" and "k=" not in again.signed_out().cookie()


def test_a_fixed_path_wins_over_a_pattern_and_segments_are_captured():
    routes = routing.collect(endpoints)
    route, params = routing.match(routes, "GET", "vpc/endpoints/create")
    assert route.handler.__name__ == "create_form" and params == {}
    route, params = routing.match(routes, "POST", "vpc/endpoints/vpce-1/private-dns")
    assert route.handler.__name__ == "modify_private_dns" and params == {"id": "vpce-1"}
    assert routing.match(routes, "DELETE", "vpc/endpoints") is False  # the path, not the verb
    assert routing.match(routes, "GET", "vpc/endpoints/a/b/c") is None
