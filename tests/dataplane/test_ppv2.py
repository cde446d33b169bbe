"""The PROXY protocol v2 codec against AWS's bytes (privatelink-behavior.md section 7) and the spec."""

from __future__ import annotations

import ipaddress

import google_crc32c
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketlink.dataplane import ppv2

SIGNATURE = bytes.fromhex("0d0a0d0a000d0a515549540a")
VPCE = "vpce-08d2bf15fac5001c9"
# AWS's health-check header as captured in kubernetes/kubernetes#57250: LOCAL, family byte 0x11 but no
# address block, CRC32C, NOOP of 74 zeros: 100 bytes, like the PrivateLink sample.
AWS_HEALTH_CHECK = SIGNATURE + bytes.fromhex("2011 0054 030004 bce5951f 04004a") + bytes(74)


def crc32c_bitwise(data: bytes) -> int:
    """The oracle: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) one bit at a time."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def with_crc(header: bytes, at: int) -> bytes:
    """The spec's rule: checksum the header with the 4-byte field zeroed, then write it there."""
    zeroed = header[:at] + bytes(4) + header[at + 4 :]
    return zeroed[:at] + crc32c_bitwise(zeroed).to_bytes(4, "big") + zeroed[at + 4 :]


def reference_sample() -> bytes:
    """The reference's header, field by field as its text lists them."""
    header = (
        SIGNATURE
        + bytes.fromhex("21 11 0054")
        + bytes.fromhex("ac1f0771")
        + bytes.fromhex("ac1f0a1f")
        + bytes.fromhex("c8f2 0050")
        + bytes.fromhex("03 0004") + bytes(4)
        + bytes.fromhex("ea 0017 01") + VPCE.encode("ascii")
        + bytes.fromhex("04 0024") + bytes(36)
    )  # fmt: skip
    return with_crc(header, 31)


def test_oracle_is_crc32c() -> None:
    assert crc32c_bitwise(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert with_crc(AWS_HEALTH_CHECK, 19) == AWS_HEALTH_CHECK


@given(st.binary(max_size=300))
def test_library_crc_agrees_with_oracle(data: bytes) -> None:
    assert google_crc32c.value(data) == crc32c_bitwise(data)


def test_encode_reproduces_reference_sample_byte_for_byte() -> None:
    header = ppv2.encode(("172.31.7.113", 0xC8F2), ("172.31.10.31", 0x50), VPCE)
    expected = reference_sample()
    assert len(expected) == 100
    assert header[0:12] == SIGNATURE
    assert header[12] == 0x21  # version 2, PROXY
    assert header[13] == 0x11  # AF_INET, STREAM
    assert header[14:16] == b"\x00\x54"  # 84 bytes follow
    assert header[16:20] == bytes.fromhex("ac1f0771")  # consumer client
    assert header[20:24] == bytes.fromhex("ac1f0a1f")  # endpoint ENI
    assert header[24:28] == bytes.fromhex("c8f2 0050")
    assert header[28:31] == bytes.fromhex("03 0004")  # PP2_TYPE_CRC32C
    assert header[31:35] == expected[31:35]
    assert header[35:39] == bytes.fromhex("ea 0017 01")  # PP2_TYPE_AWS, VPC endpoint id
    assert header[39:61] == VPCE.encode("ascii")
    assert header[61:64] == bytes.fromhex("04 0024")  # PP2_TYPE_NOOP, 36 bytes
    assert header[64:100] == bytes(36)
    assert header == expected


def test_decode_reference_sample() -> None:
    header, length = ppv2.decode(reference_sample() + b"GET / HTTP/1.1\r\n")
    assert length == 100
    assert header.command == "PROXY"
    assert header.source == ("172.31.7.113", 0xC8F2)
    assert header.destination == ("172.31.10.31", 80)
    assert header.vpc_endpoint_id == VPCE
    assert header.tlvs == {
        0x03: reference_sample()[31:35],
        0xEA: b"\x01" + VPCE.encode("ascii"),
        0x04: bytes(36),
    }


def test_padding_holds_every_header_at_100_bytes() -> None:
    v4 = ppv2.encode(("10.0.0.1", 1), ("10.0.0.2", 2), None)
    v6 = ppv2.encode(("fd00::1", 1), ("fd00::2", 2), VPCE)
    v6_plain = ppv2.encode(("fd00::1", 1), ("fd00::2", 2), None)
    assert v4[13] == 0x11 and v4[28:31] == bytes.fromhex("03 0004") and v4[35:38] == bytes.fromhex("04 003e")
    assert v6[13] == 0x21 and v6[85:88] == bytes.fromhex("04 000c")
    assert v6_plain[59:62] == bytes.fromhex("04 0026")
    for header in (v4, v6, v6_plain, ppv2.encode_local()):
        assert len(header) == 100 and header[14:16] == b"\x00\x54" and header.endswith(bytes(12))


def test_an_id_too_long_to_pad_still_ends_with_an_empty_noop() -> None:
    # 16 + 36 addresses + 7 CRC + 39 id = 98 bytes: no NOOP of 3 or more bytes ends at 100.
    header = ppv2.encode(("fd00::1", 1), ("fd00::2", 2), "vpce-" + "0" * 30)
    assert len(header) == 101 and header.endswith(bytes.fromhex("04 0000"))
    assert ppv2.decode(header)[1] == 101


@st.composite
def endpoints(draw: st.DrawFn) -> tuple[tuple[str, int], tuple[str, int]]:
    version = draw(st.sampled_from((4, 6)))
    src, dst = (str(draw(st.ip_addresses(v=version))) for _ in range(2))
    ports = st.integers(0, 0xFFFF)
    return (src, draw(ports)), (dst, draw(ports))


vpce_ids = (
    st.none()
    | st.from_regex(r"vpce-[0-9a-f]{17}", fullmatch=True)
    | st.from_regex(r"vpce-[0-9a-f]{8}", fullmatch=True)
)


@given(endpoints(), vpce_ids, st.binary(max_size=20))
def test_round_trip(pair: tuple[tuple[str, int], tuple[str, int]], vpce: str | None, payload: bytes) -> None:
    source, destination = pair
    encoded = ppv2.encode(source, destination, vpce)
    header, length = ppv2.decode(encoded + payload)
    assert length == len(encoded) == 100
    assert (header.command, header.source, header.destination) == ("PROXY", source, destination)
    assert header.vpc_endpoint_id == vpce
    assert list(header.tlvs) == ([0x03, 0xEA, 0x04] if vpce else [0x03, 0x04])
    crc_at = 16 + (12 if encoded[13] == 0x11 else 36) + 3
    assert encoded == with_crc(encoded, crc_at)


def test_mixed_families_are_refused() -> None:
    with pytest.raises(ValueError, match="family"):
        ppv2.encode(("10.0.0.1", 1), ("fd00::2", 2), None)


def test_ports_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="ports"):
        ppv2.encode(("10.0.0.1", 65536), ("10.0.0.2", 2), None)


# The bytes the checksum alone guards: addresses, ports, and every TLV value (CRC, id, padding).
GUARDED = [*range(16, 28), *range(31, 35), *range(38, 61), *range(64, 100)]


@given(st.sampled_from(GUARDED), st.integers(1, 255))
def test_a_corrupted_byte_fails_the_crc(position: int, mask: int) -> None:
    corrupted = bytearray(reference_sample())
    corrupted[position] ^= mask
    with pytest.raises(ValueError, match="CRC32C"):
        ppv2.decode(bytes(corrupted))


@pytest.mark.parametrize("sample", [reference_sample(), ppv2.encode_local()], ids=["proxy", "local"])
def test_truncated_input_needs_more(sample: bytes) -> None:
    for size in range(len(sample)):
        assert ppv2.decode(sample[:size]) is None


@pytest.mark.parametrize(
    "data",
    [b"G", b"GET / HTTP/1.1\r\n", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", SIGNATURE + b"\x11\x11\x00\x00"],
    ids=["one-byte", "http", "v1", "version-1-binary"],
)
def test_not_a_v2_header(data: bytes) -> None:
    with pytest.raises(ValueError):
        ppv2.decode(data)


@pytest.mark.parametrize(
    "fixed",
    [b"\x22\x11\x00\x0c", b"\x21\x41\x00\x0c", b"\x21\x21\x00\x0c"],
    ids=["command-2", "family-4", "length-short-of-ipv6"],
)
def test_invalid_fixed_part(fixed: bytes) -> None:
    with pytest.raises(ValueError):
        ppv2.decode(SIGNATURE + fixed + bytes(12))


@pytest.mark.parametrize(
    "tlvs",
    [
        bytes.fromhex("04 0005 00"),
        bytes.fromhex("04 00"),
        bytes.fromhex("03 0002 0000"),
        bytes.fromhex("04 0000 04 0000"),
    ],
    ids=["overrun", "cut-type-length", "crc-not-4-bytes", "repeated-type"],
)
def test_malformed_tlvs(tlvs: bytes) -> None:
    addresses = bytes.fromhex("0a000001 0a000002 0001 0002")
    body = addresses + tlvs
    with pytest.raises(ValueError):
        ppv2.decode(SIGNATURE + b"\x21\x11" + len(body).to_bytes(2, "big") + body)


def test_local_header() -> None:
    local = ppv2.encode_local()
    assert local[:16] == SIGNATURE + bytes.fromhex("20 00 0054")  # version 2 LOCAL, AF_UNSPEC
    assert local[16:19] == bytes.fromhex("03 0004") and local[23:26] == bytes.fromhex("04 004a")
    assert local == with_crc(local, 19)
    assert local[23:] == AWS_HEALTH_CHECK[23:]  # all but the family byte and the CRC, as AWS sends
    header, length = ppv2.decode(local)
    assert length == 100
    assert (header.command, header.source, header.destination) == ("LOCAL", None, None)
    assert header.vpc_endpoint_id is None


def test_aws_health_check_header_decodes_as_local() -> None:
    header, length = ppv2.decode(AWS_HEALTH_CHECK + b"GET / HTTP/1.1\r\n")
    assert length == 100
    assert (header.command, header.source, header.destination) == ("LOCAL", None, None)
    assert header.tlvs == {0x03: bytes.fromhex("bce5951f"), 0x04: bytes(74)}


def test_local_block_that_is_not_tlvs_is_discarded() -> None:
    # A LOCAL sender may present (dummy) addresses; the receiver ignores them and accepts the connection.
    block = bytes.fromhex("ac1f0771 ac1f0a1f c8f2 0050")
    header, length = ppv2.decode(SIGNATURE + bytes.fromhex("20 11 000c") + block)
    assert (header.command, header.source, header.tlvs, length) == ("LOCAL", None, {}, 28)


def test_local_crc_is_checked_when_present() -> None:
    corrupted = bytearray(AWS_HEALTH_CHECK)
    corrupted[50] = 1
    with pytest.raises(ValueError, match="CRC32C"):
        ppv2.decode(bytes(corrupted))


def test_other_families_fall_back_to_unspec() -> None:
    udp = bytes.fromhex("0a000001 0a000002 0001 0002")
    header, length = ppv2.decode(SIGNATURE + bytes.fromhex("21 12 000f") + udp + bytes.fromhex("04 0000"))
    assert (header.command, header.source, header.destination, length) == ("PROXY", None, None, 31)
    assert header.tlvs == {0x04: b""}


def test_ipv6_addresses_are_16_bytes_each() -> None:
    header = ppv2.encode(("2001:db8::1", 0x1234), ("fd00:ec2::253", 443), VPCE)
    assert header[13] == 0x21
    assert header[16:32] == ipaddress.IPv6Address("2001:db8::1").packed
    assert header[32:48] == ipaddress.IPv6Address("fd00:ec2::253").packed
    assert header[48:52] == bytes.fromhex("1234 01bb")
    assert header[52:55] == bytes.fromhex("03 0004") and header[59:62] == bytes.fromhex("ea 0017")


def test_size_reads_exactly_the_header_from_its_first_16_bytes() -> None:
    """What the service front reads before TLS: the header and not a byte of what follows."""
    header = ppv2.encode(("10.0.1.5", 40000), ("10.0.1.9", 443), VPCE)
    assert ppv2.size(header[:ppv2.FIXED]) == len(header) == 100
    assert ppv2.size(AWS_HEALTH_CHECK[:ppv2.FIXED]) == 100
    with pytest.raises(ValueError):
        ppv2.size(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(5))  # a ClientHello
    with pytest.raises(ValueError):
        ppv2.size(header[:10])
