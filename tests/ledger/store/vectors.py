"""CIDs the real implementations give, to hold ours to.

`REFERENCE` comes from Kubo (`ipfs add --cid-version 1 --raw-leaves`, and plain
`ipfs add` for CIDv0), as recorded in the platform notes. `EDGE` was produced by
js-ipfs 0.18.1 (`add --only-hash --cid-version 1 --raw-leaves --chunker
size-262144`, and plain `add` for CIDv0) on `content(size)` from `content.py`;
`test_daemon.py` recomputes it against the live daemon whenever one is installed.
"""

from __future__ import annotations

from typing import Final

from ledger.store.builder import CHUNK_SIZE

HELLO_V1: Final = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
EMPTY_V1: Final = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
HELLO_V0: Final = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
EMPTY_V0: Final = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"

REFERENCE: Final = {
    "hello_v1": (b"hello", 1, HELLO_V1),
    "empty_v1": (b"", 1, EMPTY_V1),
    "hello_v0": (b"hello", 0, HELLO_V0),
    "empty_v0": (b"", 0, EMPTY_V0),
}

EDGE: Final = {
    # name: (size, CIDv1 raw leaves, CIDv0)
    "one_byte": (
        1,
        "bafkreidzx3d76ptj2g2hb24gqtzaawugpj4yaireotf4dl6snkne6idnji",
        "QmemL4v2Fm99fw2y91NTtPJ6WW8hFVoE9DDHEMapurXNx4",
    ),
    "exactly_256k": (
        CHUNK_SIZE,
        "bafkreiawa43p5442cqhicqbfpjfcynryxbh7yzhgewefqhlowmkg7xrety",
        "QmbynrQEWXndqVMvpfK9N9jWKYmhuDbpB7k2jdNJDPmC1A",
    ),
    "256k_plus_1": (
        CHUNK_SIZE + 1,
        "bafybeifrakpedwq7zuqinh2k7mxv7ugrwzcuo3ihh3mjcoorblqnejyvhm",
        "QmZvX9Vrj5RoRyNSQTHazaBQTmom4JXverE9rrZrY3qufL",
    ),
    "174_chunks": (
        174 * CHUNK_SIZE,
        "bafybeielo7dxf3pjv5pe6pcjpeivkmapnuam7it3m4fykd42zicai3naji",
        "QmaB2LK7n4f1iT6nqAXdjdrpwzdYQiEp3NJ5ssSks6MbGx",
    ),
    "175_chunks": (
        175 * CHUNK_SIZE,
        "bafybeihrin5pp27qmklni7bx6ggck6tqmuqfsilwxrroyl5jcm7hwri5c4",
        "QmTKdTizbHTS6fT3j3G7QKSiP7kHKY2K7pxrmw5ThQGAQ6",
    ),
    "50mb": (
        50_000_000,
        "bafybeigoghveooe4eruq2dnrskkblhedhq3ejxwhixadfwoyax7k5tmfyi",
        "QmUFTsg7u9dKi2LS8DtcgGBu3XPSanHzi5mRa7vN6QCAgr",
    ),
}

DEPTH3_CHUNK: Final = 1024
DEPTH3_SIZE: Final = DEPTH3_CHUNK * (174 * 174 + 1) - 7
DEPTH3_SEED: Final = b"depth3"
DEPTH3_V1: Final = "bafybeiamg3uyv3rnr6fd577vuf3japmqz7dwt73sqbbav3y3ycb66uuov4"
"""js-ipfs, `--chunker size-1024`: 30,277 chunks, so a root three levels up."""
