"""Templates as data: YAML's short forms, the intrinsic functions, conditions, the graph,
and what a change replaces. Pure functions: no daemon."""

from __future__ import annotations

import base64

import pytest

from pocketlink.cloudformation.errors import TemplateError
from pocketlink.cloudformation.intrinsics import Scope, Unknown, resolve
from pocketlink.cloudformation.plan import MODIFY, NO_CHANGE, REPLACE, change_of, graph
from pocketlink.cloudformation.template import load_text, parse
from pocketlink.cloudformation.template_url import bucket_and_key


def scope(**parameters) -> Scope:
    return Scope(parameters={"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
                             "AWS::StackName": "s", **parameters},
                 mappings={"Map": {"Top": {"Key": "found"}}},
                 conditions={"Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                             "NotProd": {"Fn::Not": [{"Condition": "Prod"}]}},
                 resources=frozenset({"Vpc"}),
                 ref=lambda name: "vpc-123", get_att=lambda name, attr: f"{name}.{attr}",
                 azs=lambda region: [f"{region}a", f"{region}b"])


def test_short_forms_become_long_forms():
    body = load_text("""
A: !Ref X
B: !GetAtt Vpc.CidrBlock
C: !Sub '${AWS::Region}-x'
D: !Join [',', [a, b]]
E: !If [Cond, 1, 2]
F: !GetAZs ''
G: !Base64 text
H: !Select [0, !Split [',', 'a,b']]
""")
    assert body == {"A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["Vpc", "CidrBlock"]},
                    "C": {"Fn::Sub": "${AWS::Region}-x"}, "D": {"Fn::Join": [",", ["a", "b"]]},
                    "E": {"Fn::If": ["Cond", 1, 2]}, "F": {"Fn::GetAZs": ""},
                    "G": {"Fn::Base64": "text"},
                    "H": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}}


def test_unquoted_dates_stay_strings():
    assert load_text("Version: 2012-10-17\nWhen: 2001-12-14t21:59:43.10-05:00\n") == {
        "Version": "2012-10-17", "When": "2001-12-14t21:59:43.10-05:00"}


def test_aliases_are_refused():
    with pytest.raises(TemplateError, match="aliases"):
        load_text("a: &x {b: 1}\nc: *x\n")


def test_not_well_formed():
    with pytest.raises(TemplateError, match=r"JSON not well-formed. \(line 1"):
        load_text('{"Resources": ')
    with pytest.raises(TemplateError, match="YAML not well-formed"):
        load_text("a: [b\n")


def test_template_needs_resources():
    with pytest.raises(TemplateError, match="At least one Resources member must be defined"):
        parse("Description: nothing\n")
    with pytest.raises(TemplateError, match=r"Invalid template property or properties \[Bad\]"):
        parse("Bad: 1\nResources: {A: {Type: AWS::SSM::Parameter}}\n")


@pytest.mark.parametrize(("value", "expected"), [
    ({"Fn::Sub": "${AWS::StackName}-${Vpc}-${Vpc.CidrBlock}-${!Literal}"},
     "s-vpc-123-Vpc.CidrBlock-${Literal}"),
    ({"Fn::Sub": ["${Name}.${AWS::Region}", {"Name": {"Ref": "Env"}}]}, "dev.us-east-1"),
    ({"Fn::Join": ["-", ["a", {"Ref": "Env"}, 3]]}, "a-dev-3"),
    ({"Fn::Select": ["1", {"Fn::GetAZs": ""}]}, "us-east-1b"),
    ({"Fn::Split": ["|", "a|b"]}, ["a", "b"]),
    ({"Fn::FindInMap": ["Map", "Top", "Key"]}, "found"),
    ({"Fn::Base64": "hi"}, base64.b64encode(b"hi").decode()),
    ({"Fn::Cidr": ["10.0.0.0/16", 3, 8]}, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
    ({"Fn::If": ["Prod", "big", "small"]}, "small"),
    ({"Fn::If": ["NotProd", {"Ref": "AWS::NoValue"}, "x"]}, None),
    ({"Fn::And": [{"Condition": "NotProd"}, {"Fn::Or": [False, {"Fn::Equals": ["1", 1]}]}]}, True),
    ({"Fn::GetAtt": "Vpc.CidrBlock"}, "Vpc.CidrBlock"),
    ({"Ref": "List"}, ["a", "b"]),
])
def test_intrinsics(value, expected):
    resolved = resolve({"Key": value}, scope(Env="dev", List=["a", "b"]))
    assert resolved.get("Key") == expected


def test_no_value_leaves_list_items_out():
    assert resolve(["a", {"Ref": "AWS::NoValue"}, "b"], scope()) == ["a", "b"]


@pytest.mark.parametrize(("value", "message"), [
    ({"Ref": "Nope"}, r"Unresolved resource dependencies \[Nope\]"),
    ({"Fn::GetAtt": ["Nope", "Arn"]}, "references undefined resource Nope"),
    ({"Fn::Select": [5, ["a"]]}, "cannot select nonexistent value at index 5"),
    ({"Fn::FindInMap": ["Map", "Top", "Missing"]}, "Unable to get mapping for Map::Top::Missing"),
    ({"Fn::If": ["Missing", 1, 2]}, "unresolved condition dependency Missing"),
])
def test_intrinsic_errors(value, message):
    with pytest.raises(TemplateError, match=message):
        resolve(value, scope(Env="dev"))


def test_unknown_spreads_through_strings():
    unknown = Scope(parameters={"AWS::Region": "r"}, resources=frozenset({"Vpc"}))
    assert isinstance(resolve({"Fn::Sub": "${Vpc}-x"}, unknown), Unknown)
    assert isinstance(resolve({"Fn::Join": ["", [{"Ref": "Vpc"}]]}, unknown), Unknown)


def test_graph_orders_and_finds_cycles():
    template = parse("""
Resources:
  A: {Type: T, Properties: {X: !Ref B}}
  B: {Type: T, DependsOn: C}
  C: {Type: T, Condition: Never}
Conditions:
  Never: !Equals [a, b]
""")
    plan = graph(template, Scope(parameters={}, conditions=template.conditions,
                                 resources=frozenset(template.resources)))
    assert set(plan.resources) == {"A", "B"}
    assert list(plan.sorter().static_order()) == ["B", "A"]
    assert list(plan.sorter(reverse=True).static_order()) == ["A", "B"]
    cyclic = parse("Resources:\n  A: {Type: T, DependsOn: B}\n  B: {Type: T, DependsOn: A}\n")
    with pytest.raises(TemplateError, match=r"Circular dependency between resources: \[A, B\]"):
        graph(cyclic, Scope(parameters={}, resources=frozenset(cyclic.resources)))


def test_create_only_properties_replace():
    group = "AWS::ElasticLoadBalancingV2::TargetGroup"
    assert change_of(group, {"Name": "a", "Port": 80}, {"Name": "a", "Port": "80"})[0] == NO_CHANGE
    assert change_of(group, {"Name": "a"}, {"Name": "b"})[::2] == (REPLACE, "True")
    assert change_of(group, {"Name": "a", "HealthCheckPath": "/"},
                     {"Name": "a", "HealthCheckPath": "/x"})[::2] == (MODIFY, "False")
    assert change_of(group, {"VpcId": "vpc-1"}, {"VpcId": Unknown()})[::2] == \
        (MODIFY, "Conditional")
    endpoint = "AWS::EC2::VPCEndpoint"
    assert change_of(endpoint, {"DnsOptions": {"PrivateDnsPreference": "A"}},
                     {"DnsOptions": {"PrivateDnsPreference": "B"}})[0] == REPLACE


@pytest.mark.parametrize(("url", "expected"), [
    ("https://s3.amazonaws.com/bucket/a/t.json", ("bucket", "a/t.json")),
    ("https://s3.us-west-2.amazonaws.com/bucket/t", ("bucket", "t")),
    ("https://bucket.s3.amazonaws.com/k/t.yaml", ("bucket", "k/t.yaml")),
    ("https://bucket.s3.eu-west-1.amazonaws.com/t", ("bucket", "t")),
    ("http://127.0.0.1:4566/bucket/t", ("bucket", "t")),
])
def test_template_urls(url, expected):
    assert bucket_and_key(url) == expected


def test_foreign_template_url_refused():
    with pytest.raises(TemplateError.__mro__[1], match="TemplateURL must be a supported URL"):
        bucket_and_key("https://example.com/bucket/t")
