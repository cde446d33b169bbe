"""The topology page in Chromium (Playwright, Debian's chromium, no browser download): seed
000's world on a real daemon, its endpoint connection drawn from the consumer's ENI to the
provider's service, NLB and target, each a link to its console page; a curl through the
endpoint from the consumer's instance makes the page's flow counts rise without a reload
(the endpoint's, from CloudWatch, and its target's, from the data plane's counters).
Under ``--strict-auth`` the page draws the signed-in account, signed with its key.
"""

from __future__ import annotations

import html
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from pocketlink.seeds.seed000 import CONSUMER, PROVIDER, REGION, Seed000
from tests.console.conftest import STRICT_KEYS, TIMEOUT_MS

FLOWS = re.compile(r"^(\d+) flows · ")


@pytest.fixture(scope="module")
def seed(make_daemon) -> Seed000:
    if os.geteuid() != 0:
        pytest.skip("seed 000's world needs root (namespaces)")
    daemon = make_daemon()
    world = Seed000(daemon.endpoint, say=lambda line: None)
    world.daemon = daemon  # type: ignore[attr-defined]
    world.build_provider()
    world.build_consumer()
    world.section1_create_and_accept()
    return world


@pytest.fixture
def page(browser) -> Iterator:  # the session's chromium (conftest.py): one Playwright at a time
    context = browser.new_context()
    yield context.new_page()
    context.close()


def topology(seed: Seed000, query: str = "scope=machine") -> str:
    return f"{seed.endpoint}/_pocketlink/console/topology?{query}"


def console(kind: str, resource: str, account: str) -> str:
    return f"/_pocketlink/console/{kind}/{resource}?account={account}&region={REGION}"


def flows(page, key: str) -> int:
    text = page.locator(f'td[data-figure="{key}"]').text_content()
    found = FLOWS.match(text or "")
    assert found, text
    return int(found.group(1))


def test_the_endpoint_connection_is_drawn_linked_and_its_flows_rise_live(seed, page):
    vpce, subnet = seed.ids["endpoint"], seed.ids["consumer_subnet"]
    page.goto(topology(seed))
    hrefs = {
        f"{vpce}/{subnet}": console("vpc/endpoints", vpce, CONSUMER),
        seed.ids["service"]: console("vpc/endpoint-services", seed.ids["service"], PROVIDER),
        seed.ids["balancer"]: console("ec2/load-balancers", "seed-nlb", PROVIDER),
        seed.ids["plain"]: console("ec2/instances", seed.ids["plain"], PROVIDER),
    }
    for chip, href in hrefs.items():
        assert page.locator(f'svg a[data-id="{chip}"]').get_attribute("href") == href
    lines = page.locator("svg path.line title").all_text_contents()
    assert f"{vpce} in {subnet} to {seed.ids['service_name']}" in lines
    assert any(line.startswith(f"{seed.ids['service']} is served by seed-nlb") for line in lines)
    assert any(line.startswith("seed-nlb forwards to ") for line in lines)
    assert any(line.startswith(f"seed-plain target {seed.ids['plain']}:80, ") for line in lines)
    row = page.locator(f'tr[data-endpoint="{vpce}"]').inner_text()
    assert all(word in row for word in (CONSUMER, PROVIDER, seed.ids["service"], "seed-nlb",
                                        f"{seed.ids['plain']} ("))

    before = flows(page, f"e:{vpce}")
    # The target's own figures, drawn on its chip: the data plane's counts per target.
    target = page.locator(f'svg a[data-id="{seed.ids["plain"]}"] text[data-figure]')
    target_key = target.get_attribute("data-figure")
    assert target_key.startswith("t:arn:aws:elasticloadbalancing:") and \
        target_key.endswith(":80"), target_key
    target_before = int(FLOWS.match(target.text_content()).group(1))
    page.evaluate("window.notReloaded = true")
    for _ in range(2):
        assert seed.curl(seed.ids["regional_name"]).returncode == 0
    page.wait_for_function(
        "([key, before]) => parseInt(document.querySelector(`td[data-figure='${key}']`)"
        ".textContent) >= before + 2", arg=[f"e:{vpce}", before], timeout=TIMEOUT_MS)
    page.wait_for_function(
        "([key, before]) => parseInt(document.querySelector(`svg text[data-figure='${key}']`)"
        ".textContent) >= before + 2", arg=[target_key, target_before], timeout=TIMEOUT_MS)
    assert page.evaluate("window.notReloaded") is True
    eni = page.locator(f'svg text[data-figure="e:{vpce}:{subnet}"]').text_content()
    assert int(FLOWS.match(eni).group(1)) >= before + 2  # the ENI's own figure too


def test_a_click_on_the_endpoint_goes_to_its_console_page(seed, page):
    vpce, subnet = seed.ids["endpoint"], seed.ids["consumer_subnet"]
    page.goto(topology(seed))
    chip = page.locator(f'svg a[data-id="{vpce}/{subnet}"]')
    chip.focus()  # reachable from the keyboard
    assert page.evaluate("document.activeElement.dataset.id") == f"{vpce}/{subnet}"
    with page.expect_navigation():
        chip.click()
    assert page.url == seed.endpoint + console("vpc/endpoints", vpce, CONSUMER)


def test_one_account_sees_the_other_side_as_the_api_shows_it(seed, page):
    vpce, service_name = seed.ids["endpoint"], seed.ids["service_name"]
    page.context.add_cookies([{"name": "pocketlink_console", "value": f"a={CONSUMER}&r={REGION}",
                               "url": seed.endpoint + "/_pocketlink/console/"}])
    page.goto(topology(seed, ""))  # the account from the console's cookies
    assert page.title() == f"Topology: {CONSUMER} · {REGION} | pocketlink console"
    remote = page.locator(f'svg a[data-id="remote:{service_name}"]')
    assert remote.get_attribute("href") == console("vpc/endpoint-services", seed.ids["service"],
                                                   PROVIDER)
    assert page.locator(f'svg a[data-id="{seed.ids["balancer"]}"]').count() == 0
    page.goto(topology(seed, f"account={PROVIDER}&region={REGION}"))
    assert page.locator(f'svg a[data-id="remote:{vpce}"]').get_attribute("href") == \
        console("vpc/endpoints", vpce, CONSUMER)


@pytest.mark.parametrize(("query", "host", "status", "words"), [
    ("account=12345&region=us-west-2", None, 400, "'12345' is not a 12-digit account id."),
    ("account=111111111111&region=nowhere", None, 400, "'nowhere' is not a region's name."),
    ("scope=machine", "rebound.example", 403, "daemon's own names only"),
])
def test_a_bad_request_is_refused_in_words(seed, query, host, status, words):
    request = urllib.request.Request(topology(seed, query))
    if host:
        request.add_header("Host", host)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == status
    assert words in html.unescape(refused.value.read().decode())


def test_an_api_error_shows_in_the_page_in_its_own_words(strict_daemon, page):
    """A key whose secret is no longer the one signed in with (the credentials file
    changed): the API refuses the page's calls, and the page says so in its words."""
    key, (_, account) = next(iter(STRICT_KEYS.items()))
    page.context.add_cookies([{
        "name": "pocketlink_console", "value": f"a={account}&r={REGION}&k={key}&s=not-it",
        "url": strict_daemon.endpoint + "/_pocketlink/console/"}])
    page.goto(f"{strict_daemon.endpoint}/_pocketlink/console/topology")
    assert page.locator("p[role=alert]").text_content().startswith(
        f"Account {account} ({REGION}): The API refused: SignatureDoesNotMatch: ")


def _get(url: str, cookie: str = "") -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, dict(answer.headers), html.unescape(answer.read().decode())
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), html.unescape(refused.read().decode())


def test_strict_auth_draws_the_signed_in_account_only(strict_daemon):
    key, (secret, account) = next(iter(STRICT_KEYS.items()))
    vpc = strict_daemon.client("ec2", access_key=key, secret=secret, region=REGION).create_vpc(
        CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    url = f"{strict_daemon.endpoint}/_pocketlink/console/topology"
    status, _, body = _get(url)
    assert status == 401 and "sign in with an access key" in body  # the console's sign-in
    signed_in = f"pocketlink_console=a={account}&r={REGION}&k={key}&s={secret}"
    status, headers, body = _get(f"{url}?account=222222222222", signed_in)  # not a key
    assert status == 200, body
    assert f"Topology: {account} · {REGION}" in body
    assert f"/vpc/vpcs/{vpc}?" in body  # its VPC, drawn with its link
    assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'self' rules
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    status, _, body = _get(f"{url}?scope=machine", signed_in)
    assert status == 403 and "would sign as every account" in body
