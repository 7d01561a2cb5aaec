#!/usr/bin/env python3
"""Writes the seed corpus for message_fuzz.cc: whole BGP messages, valid-* ones that
decode cleanly on an eBGP 4-octet session with peer AS 65001, and malformed ones (one per
RFC 7606 case in tests/unit/bgp/wire_malformed_test.cc). Run from this directory; the
files are committed so CI does not need Python."""
import os

def h(text):
    return bytes.fromhex("".join(text.split()))

def frame(mtype, body):
    return b"\xff" * 16 + (19 + len(body)).to_bytes(2, "big") + bytes([mtype]) + body

def update(attrs, nlri=b"", withdrawn=b""):
    body = len(withdrawn).to_bytes(2, "big") + withdrawn + len(attrs).to_bytes(2, "big") + attrs + nlri
    return frame(2, body)

ORIGIN = h("40 01 01 00")
PATH = h("40 02 06 02 01 0000fde9")
NH = h("40 03 04 0a000001")
LP = h("40 05 04 00000064")
NLRI = h("18 0a0102 20 0a010304")
MP6 = h("80 0e 2e 0002 01 20 20010db8000000000000000000000001"
        "fe800000000000000000000000000001 00 40 20010db800010000")

corpus = {
    "valid-keepalive": frame(4, b""),
    "valid-open": frame(1, h("04 fde9 005a 0a000001 20 02 1e 01 04 0001 00 01 01 04 0002 00 01"
                             "02 00 40 06 8078 0001 01 80 41 04 0000fde9 46 00")),
    "valid-open-addpath-extnh": frame(1, h("04 fde9 005a 0a000001 10 02 0e 45 04 0001 01 03"
                                           "05 06 0001 0001 0002")),
    "valid-update-v4": update(ORIGIN + PATH + NH + h("80 04 04 00000064 c0 08 04 fde90001"), NLRI),
    "valid-update-v6": update(h("40 01 01 02") + PATH + MP6),
    "valid-update-all-attrs": update(ORIGIN + PATH + NH + h(
        "40 06 00 c0 07 08 0000fde9 0a000001 c0 10 08 0002fde900000064"
        "c0 20 0c 0000fde9 00000001 00000002 c0 63 02 abcd"), NLRI),
    "valid-withdraw-v4": update(b"", b"", h("10 c0a8 00")),
    "valid-withdraw-v6": update(h("80 0f 0c 0002 01 40 20010db800010000")),
    "valid-eor-v4": update(b""),
    "valid-eor-v6": update(h("80 0f 03 0002 01")),
    "valid-notification-shutdown": frame(3, h("06 02 0a 6d61696e742031323334")),
    "valid-route-refresh": frame(5, h("0002 01 01")),
    "hdr-short-length": h("ffffffffffffffffffffffffffffffff 0012 04"),
    "hdr-bad-marker": h("fffffffffffffffffffffffffffffffe 0013 04"),
    "hdr-bad-type": frame(9, b""),
    "hdr-keepalive-too-long": frame(4, b"\x00"),
    "hdr-length-over-4096": b"\xff" * 16 + h("1001 02") + bytes(4097 - 19),
    "open-bad-version": frame(1, h("03 fde9 005a 0a000001 00")),
    "open-hold-time-2": frame(1, h("04 fde9 0002 0a000001 00")),
    "open-zero-id": frame(1, h("04 fde9 005a 00000000 00")),
    "open-truncated-capability": frame(1, h("04 fde9 005a 0a000001 06 02 04 41 04 0000")),
    "open-empty-capabilities": frame(1, h("04 fde9 005a 0a000001 02 02 00")),
    "open-params-overrun": frame(1, h("04 fde9 005a 0a000001 09 02 02 02 00")),
    "update-withdrawn-overrun": frame(2, h("0010 18 0a0102 0000")),
    "update-attrs-overrun": frame(2, h("0000 0020 40 01 01 00")),
    "update-attr-overruns-block": update(ORIGIN + PATH + h("40 03 08 0a000001"), NLRI),
    "update-origin-flags": update(h("c0 01 01 00") + PATH + NH, NLRI),
    "update-origin-value": update(h("40 01 01 03") + PATH + NH, NLRI),
    "update-nexthop-length": update(ORIGIN + PATH + h("40 03 05 0a00000100"), NLRI),
    "update-aspath-count": update(ORIGIN + h("40 02 0a 02 03 0000fde9 0000fdea") + NH, NLRI),
    "update-aspath-zero-segment": update(ORIGIN + h("40 02 08 02 00 02 01 0000fde9") + NH, NLRI),
    "update-aspath-bad-type": update(ORIGIN + h("40 02 06 05 01 0000fde9") + NH, NLRI),
    "update-aspath-empty-ebgp": update(ORIGIN + h("40 02 00") + NH, NLRI),
    "update-duplicate-origin": update(ORIGIN + PATH + NH + h("40 01 01 02"), NLRI),
    "update-duplicate-mpreach": update(ORIGIN + PATH + MP6 + MP6),
    "update-missing-origin": update(PATH + NH, NLRI),
    "update-missing-localpref-ibgp": update(ORIGIN + PATH + NH, NLRI),
    "update-mpreach-nh-length": update(ORIGIN + PATH + h("80 0e 0f 0002 01 05 2001000000 00 20 20010db8")),
    "update-mpreach-unknown-afi": update(ORIGIN + PATH + h("80 0e 0d 0019 46 04 0a000001 00 18 0a0102")),
    "update-mpreach-short": update(ORIGIN + PATH + h("80 0e 06 0002 01 20 0000")),
    "update-mpunreach-short": update(h("80 0f 02 0002")),
    "update-as4path-confed": update(ORIGIN + h("40 02 04 02 01 fde9") + NH + h("c0 11 06 03 01 00030d41"), NLRI),
    "update-aggregator-length": update(ORIGIN + PATH + NH + h("c0 07 06 fde9 0a000001"), NLRI),
    "update-unknown-well-known": update(ORIGIN + PATH + NH + h("40 63 01 00"), NLRI),
    "update-nlri-length-33": update(ORIGIN + PATH + NH, h("21 0a010203 04")),
    "update-nlri-overrun": update(ORIGIN + PATH + NH, h("18 0a01")),
    "update-communities-length": update(ORIGIN + PATH + NH + h("c0 08 05 fde9000100"), NLRI),
    "update-extended-length-huge": update(ORIGIN + PATH + NH + h("d0 08 ffff fde90001"), NLRI),
    "route-refresh-bad-length": frame(5, h("0001 01 01 00")),
}

os.makedirs("corpus", exist_ok=True)
for name, data in corpus.items():
    with open(os.path.join("corpus", name), "wb") as f:
        f.write(data)
print(f"wrote {len(corpus)} files")
