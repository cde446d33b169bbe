"""The PROXY protocol v2 header an AWS Network Load Balancer puts in front of a target's connection.

Sans-I/O: bytes in, bytes out, so the listeners, the health checker, the service front, the gateway's
front socket and the tests share one codec and a provider's parser can be checked against exactly what
AWS would send (haproxy's doc/proxy-protocol.txt, privatelink-behavior.md section 7).

What AWS sends, and so what ``encode`` sends:

- the PROXY command, TCP over IPv4 (0x11) or IPv6 (0x21); source = the consumer client, destination =
  the endpoint ENI and the port the client dialled;
- TLVs in AWS's order: PP2_TYPE_CRC32C (0x03), then PP2_TYPE_AWS (0xEA) whose value is subtype 0x01
  and the VPC endpoint id in raw ASCII (PrivateLink traffic only), then PP2_TYPE_NOOP (0x04) of zeros;
- the padding rule: the NOOP TLV pads the whole header, signature included, to 100 bytes (length field
  0x0054). Every AWS header seen fits it: the reference's PrivateLink IPv4 sample (12 address bytes, a
  22-character endpoint id, NOOP of 36), AWS's health-check header captured in kubernetes/kubernetes#57250
  (no addresses, NOOP of 74) and the 100 bytes reported for plain NLB IPv4 traffic. No alignment to a
  smaller size fits both captures, which pad 61 and 23 bytes alike to 100. For IPv6 the same rule
  gives a NOOP of 12 bytes with an endpoint id and 38 without; that is UNCONFIRMED, no IPv6 capture has
  been seen. A header that cannot be padded to 100 (a NOOP TLV is at least 3 bytes) still ends with an
  empty NOOP, so that NOOP is always last, as in every capture.

The CRC32C covers the whole header with its own 4 bytes zeroed and is written big-endian; the CRC in the
kubernetes capture (bce5951f) checks out that way.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import struct
from dataclasses import dataclass

import google_crc32c

_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_FIXED = 16  # signature, version/command, family/transport, length
_VERSION = 0x2
_COMMANDS = {0x0: "LOCAL", 0x1: "PROXY"}
_UNSPEC, _TCP4, _TCP6 = 0x00, 0x11, 0x21
# Every family/transport the spec defines, with its address block size: a receiver must skip the block
# of a valid one even when it only understands TCP.
_ADDRESS_LENGTHS = {_UNSPEC: 0, _TCP4: 12, 0x12: 12, _TCP6: 36, 0x22: 36, 0x31: 216, 0x32: 216}
_TLV_HEADER = 3  # type, 16-bit length
_PP2_TYPE_CRC32C = 0x03
_PP2_TYPE_NOOP = 0x04
_PP2_TYPE_AWS = 0xEA
_PP2_SUBTYPE_AWS_VPCE_ID = 0x01
_AWS_HEADER_SIZE = 100
_PORT = struct.Struct("!H")


@dataclass(frozen=True)
class ProxyHeader:
    """A decoded header; ``tlvs`` keeps every TLV raw (CRC and padding included) by type."""

    command: str
    source: tuple[str, int] | None
    destination: tuple[str, int] | None
    tlvs: dict[int, bytes]

    @property
    def vpc_endpoint_id(self) -> str | None:
        """The consumer's endpoint: all PrivateLink consumers share the NLB's IP, this tells them apart."""
        value = self.tlvs.get(_PP2_TYPE_AWS, b"")
        if value[:1] != bytes([_PP2_SUBTYPE_AWS_VPCE_ID]):
            return None
        return value[1:].decode("ascii")


def encode(source: tuple[str, int], destination: tuple[str, int], vpc_endpoint_id: str | None) -> bytes:
    """The header in front of a relayed client connection; ``vpc_endpoint_id`` is None off PrivateLink.

    A data-plane worker sends one a flow: what only the listener decides (the destination, the endpoint's
    TLV, the padding) is packed once per listener (``_template``); a flow adds its client's address and
    port and the checksum."""
    if not 0 <= source[1] <= 0xFFFF:
        raise ValueError(f"ports {source[1], destination[1]} are not all in 0-65535")
    head, kind, packed_destination, tail, crc_at = _template(destination, vpc_endpoint_id)
    try:
        packed_source = socket.inet_pton(kind, source[0])
    except OSError:
        raise ValueError(f"source {source[0]} and destination {destination[0]} are not of one address "
                         "family") from None
    header = b"".join((head, packed_source, packed_destination, _PORT.pack(source[1]), tail))
    return header[:crc_at] + _crc32c(header, crc_at) + header[crc_at + 4 :]


@functools.lru_cache(maxsize=4096)
def _template(destination: tuple[str, int], vpc_endpoint_id: str | None
              ) -> tuple[bytes, int, bytes, bytes, int]:
    """A listener's header with the client's address left out: the bytes before it, its family for
    inet_pton, the destination's address, the bytes after the client's port (CRC zeroed), the CRC's
    offset."""
    dst = ipaddress.ip_address(destination[0])
    if not 0 <= destination[1] <= 0xFFFF:
        raise ValueError(f"ports {destination[1]} are not all in 0-65535")
    size = 4 if dst.version == 4 else 16
    aws = b""
    if vpc_endpoint_id is not None:
        aws = _tlv(_PP2_TYPE_AWS, bytes([_PP2_SUBTYPE_AWS_VPCE_ID]) + vpc_endpoint_id.encode("ascii"))
    blank = bytes(size) * 2 + struct.pack("!HH", 0, destination[1])
    header = _assemble(0x1, _TCP4 if size == 4 else _TCP6, blank, aws)
    crc_at = _FIXED + len(blank) + _TLV_HEADER
    tail = header[_FIXED + 2 * size + 2 : crc_at] + bytes(4) + header[crc_at + 4 :]
    return (header[:_FIXED], socket.AF_INET if size == 4 else socket.AF_INET6, dst.packed, tail, crc_at)


def encode_local() -> bytes:
    """The header of a health-check connection, which relays no client.

    AF_UNSPEC with no addresses, as the spec asks of a LOCAL sender, but with AWS's CRC32C and padding to
    100 bytes: AWS's own health-check header is that long (kubernetes/kubernetes#57250), and a target
    that wrongly ignores the length of a LOCAL header must fail here as it fails behind a real NLB.
    AWS's family byte there is 0x11 with no address block; the spec says LOCAL's family is ignored.
    """
    return _assemble(0x0, _UNSPEC, b"", b"")


FIXED = _FIXED  # the bytes that say how long the whole header is


def size(fixed: bytes) -> int:
    """The whole header's length from its first ``FIXED`` bytes, so that a receiver reads
    exactly the header and not a byte of what follows it (a TLS ClientHello that another
    layer must see whole); ValueError when they cannot start one."""
    if len(fixed) < _FIXED:
        raise ValueError(f"a PROXY protocol v2 header starts with {_FIXED} bytes")
    decode(fixed[:_FIXED])  # refuses what cannot start one
    return _FIXED + struct.unpack_from("!H", fixed, 14)[0]


def decode(data: bytes) -> tuple[ProxyHeader, int] | None:
    """Parse the header at the start of ``data``: None until it is whole, ValueError once it cannot be one.

    Bytes that already contradict the signature are refused at once, so a connection without the header
    is not left waiting. A LOCAL header's block is parsed as TLVs straight after the fixed part, where
    AWS puts them whatever its family byte says; if that fails, the block is discarded, as the spec lets
    a receiver do for LOCAL.
    """
    head = bytes(data[:_FIXED])
    if head[: len(_SIGNATURE)] != _SIGNATURE[: len(head)]:
        raise ValueError("not a PROXY protocol v2 signature")
    if len(head) < _FIXED:
        return None
    version, command = head[12] >> 4, _COMMANDS.get(head[12] & 0xF)
    if version != _VERSION or command is None:
        raise ValueError(f"version/command byte {head[12]:#04x} is not v2 LOCAL or PROXY")
    family = head[13]
    if family not in _ADDRESS_LENGTHS:
        raise ValueError(f"family/transport byte {family:#04x} is not defined by the spec")
    total = _FIXED + struct.unpack_from("!H", head, 14)[0]
    if len(data) < total:
        return None
    header = bytes(data[:total])
    if command == "LOCAL":
        try:
            tlvs, crc_at = _parse_tlvs(header, _FIXED)
        except ValueError:
            tlvs, crc_at = {}, None
        source = destination = None
    else:
        tlvs_at = _FIXED + _ADDRESS_LENGTHS[family]
        if tlvs_at > total:
            raise ValueError(f"length {total - _FIXED} is shorter than family {family:#04x}'s addresses")
        tlvs, crc_at = _parse_tlvs(header, tlvs_at)
        source, destination = _addresses(header, family)
    if crc_at is not None and _crc32c(header, crc_at) != header[crc_at : crc_at + 4]:
        raise ValueError("PP2_TYPE_CRC32C does not match the header")
    return ProxyHeader(command, source, destination, tlvs), total


def _assemble(command: int, family: int, addresses: bytes, extra_tlvs: bytes) -> bytes:
    body = addresses + _tlv(_PP2_TYPE_CRC32C, bytes(4)) + extra_tlvs
    padding = max(_AWS_HEADER_SIZE - (_FIXED + len(body) + _TLV_HEADER), 0)
    body += _tlv(_PP2_TYPE_NOOP, bytes(padding))
    if len(body) > 0xFFFF:
        raise ValueError(f"{len(body)} bytes of addresses and TLVs do not fit the 16-bit length")
    header = _SIGNATURE + bytes([_VERSION << 4 | command, family]) + struct.pack("!H", len(body)) + body
    crc_at = _FIXED + len(addresses) + _TLV_HEADER
    return header[:crc_at] + _crc32c(header, crc_at) + header[crc_at + 4 :]


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!BH", kind, len(value)) + value


def _parse_tlvs(header: bytes, offset: int) -> tuple[dict[int, bytes], int | None]:
    """The TLVs from ``offset`` to the end, and where the CRC32C value sits if there is one.

    A repeated type is refused: a dict cannot hold both, and AWS never repeats one.
    """
    tlvs: dict[int, bytes] = {}
    crc_at = None
    while offset < len(header):
        if offset + _TLV_HEADER > len(header):
            raise ValueError(f"TLV at byte {offset} is cut short by the header's length")
        kind, length = struct.unpack_from("!BH", header, offset)
        start, offset = offset + _TLV_HEADER, offset + _TLV_HEADER + length
        if offset > len(header):
            raise ValueError(f"TLV {kind:#04x} at byte {start - _TLV_HEADER} runs past the header's length")
        if kind in tlvs:
            raise ValueError(f"TLV {kind:#04x} appears twice")
        if kind == _PP2_TYPE_CRC32C:
            if length != 4:
                raise ValueError(f"PP2_TYPE_CRC32C is {length} bytes, not 4")
            crc_at = start
        tlvs[kind] = header[start:offset]
    return tlvs, crc_at


def _addresses(header: bytes, family: int) -> tuple[tuple[str, int] | None, tuple[str, int] | None]:
    """TCP endpoints; any other family falls back to UNSPEC (no addresses), as the spec allows a receiver."""
    if family not in (_TCP4, _TCP6):
        return None, None
    size = 4 if family == _TCP4 else 16
    src = ipaddress.ip_address(header[_FIXED : _FIXED + size])
    dst = ipaddress.ip_address(header[_FIXED + size : _FIXED + 2 * size])
    src_port, dst_port = struct.unpack_from("!HH", header, _FIXED + 2 * size)
    return (str(src), src_port), (str(dst), dst_port)


def _crc32c(header: bytes, crc_at: int) -> bytes:
    """The checksum of ``header`` with its checksum field (at ``crc_at``) zeroed, as the spec defines it."""
    return struct.pack("!I", google_crc32c.value(header[:crc_at] + bytes(4) + header[crc_at + 4 :]))
