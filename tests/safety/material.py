"""Secrets in their real formats, built at test time from fixed inputs (nothing here is a live secret)."""

from __future__ import annotations

import hashlib
import hmac

import base58
from mnemonic import Mnemonic

ENTROPY_BYTES = {12: 16, 15: 20, 18: 24, 21: 28, 24: 32}

# The BIP39 reference vectors' entropy (trezor/python-mnemonic vectors.json, English).
BIP39_VECTOR_ENTROPY = (
    "00000000000000000000000000000000",
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
    "80808080808080808080808080808080",
    "ffffffffffffffffffffffffffffffff",
    "000000000000000000000000000000000000000000000000",
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
    "808080808080808080808080808080808080808080808080",
    "ffffffffffffffffffffffffffffffffffffffffffffffff",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
    "8080808080808080808080808080808080808080808080808080808080808080",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "9e885d952ad362caeb4efe34a8e91bd2",
    "6610b25967cdcca9d59875f5cb50b0ea75433311869e930b",
    "68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
    "c0ba5a8e914111210f2bd131f3d5e08d",
    "6d9be1ee6ebd27a258115aad99b7317b9c8d28b6d76431c3",
    "9f6a2878b2520799a44ef18bc7df394e7061a224d2c33cd015b157d746869863",
    "f30f8c1da665478f49b001d94c5fc452",
    "c10ec20dc3cd9f652c7fac2f1230f7a3c828389a14392f05",
    "f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
)
# A few of the vectors' phrases, written out, to prove the entropy above is read correctly.
BIP39_VECTOR_PHRASES = {
    "00000000000000000000000000000000": " ".join(["abandon"] * 11 + ["about"]),
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f": (
        "legal winner thank year wave sausage worth useful legal winner thank yellow"
    ),
    "ffffffffffffffffffffffffffffffff": " ".join(["zoo"] * 11 + ["wrong"]),
    "9e885d952ad362caeb4efe34a8e91bd2": (
        "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic"
    ),
    "c0ba5a8e914111210f2bd131f3d5e08d": (
        "scheme spot photo card baby mountain device kick cradle pact join borrow"
    ),
    "68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c": (
        "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy "
        "gospel tennis maple dilemma loan word shrug inflict delay length"
    ),
}

# BIP32 test vector 1: seed 000102...0f, chain m.
BIP32_VECTOR1_SEED = bytes(range(16))
BIP32_VECTOR1_XPRV = (
    "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVv"
    "vNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
)
BIP32_VECTOR1_XPUB = (
    "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29E"
    "SFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8"
)


def entropy(label: str, size: int) -> bytes:
    """Fixed, random-looking entropy derived from a label."""
    return hashlib.sha256(label.encode()).digest()[:size]


def phrase(label: str, words: int = 12, language: str = "english") -> list[str]:
    """A checksum-valid BIP39 phrase of ``words`` words made from fixed entropy."""
    return Mnemonic(language).to_mnemonic(entropy(label, ENTROPY_BYTES[words])).split(" ")


def private_key(label: str) -> bytes:
    """A fixed 32-byte private key."""
    return hashlib.sha256(b"helpline test key " + label.encode()).digest()


def wif(key: bytes, *, compressed: bool, testnet: bool = False) -> str:
    """Encode a private key in Wallet Import Format (base58check)."""
    payload = (b"\xef" if testnet else b"\x80") + key + (b"\x01" if compressed else b"")
    return base58.b58encode_check(payload).decode()


def master_xprv(seed: bytes, *, testnet: bool = False) -> str:
    """Serialise the BIP32 master private key of ``seed``."""
    digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
    version = bytes.fromhex("04358394" if testnet else "0488ade4")
    payload = version + b"\x00" * 9 + digest[32:] + b"\x00" + digest[:32]
    return base58.b58encode_check(payload).decode()
