from __future__ import annotations

import hashlib

import base58
import pytest

from core.safety import ALLOW_TXID, SecretKind, redact
from core.safety.keys import is_extended_private_key, is_wif
from tests.safety import material
from tests.safety.helpers import assert_removed, only

KEY = SecretKind.PRIVATE_KEY
XPRV = SecretKind.EXTENDED_PRIVATE_KEY
TXID_FORM = frozenset({ALLOW_TXID})
HEX_KEY = material.private_key("hex").hex()
TXID = hashlib.sha256(b"a transaction").hexdigest()


def test_bitcoin_wiki_wif_example_is_built_correctly() -> None:
    key = bytes.fromhex("0C28FCA386C7A227600B2FE50B7CAE11EC86D3BF1FBE471BE89827E19D72AA1D")
    assert material.wif(key, compressed=False) == "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("testnet", [False, True])
def test_wif_is_redacted_without_any_context(compressed: bool, testnet: bool) -> None:
    wif = material.wif(material.private_key("wif"), compressed=compressed, testnet=testnet)
    assert is_wif(wif)
    assert len(wif) == (52 if compressed else 51)
    text = f"I imported {wif} into electrum, balance is 0 now"
    result = redact(text)
    only(result, KEY)
    assert result.text == "I imported [REDACTED:private_key] into electrum, balance is 0 now"
    assert text[result.findings[0].start : result.findings[0].end] == wif


def test_wif_with_broken_checksum() -> None:
    wif = material.wif(material.private_key("broken"), compressed=True)
    broken = wif[:-1] + ("2" if wif[-1] != "2" else "3")
    assert not is_wif(broken)
    assert redact(f"random string {broken}").findings == ()
    # A mistyped key is still a key when the customer says so.
    assert redact(f"my private key is {broken}").text == "my private key is [REDACTED:private_key]"


def test_bip32_vector_1_master_xprv() -> None:
    assert material.master_xprv(material.BIP32_VECTOR1_SEED) == material.BIP32_VECTOR1_XPRV
    assert is_extended_private_key(material.BIP32_VECTOR1_XPRV)
    text = f"exported from my wallet:\n{material.BIP32_VECTOR1_XPRV}\nis this my account key?"
    result = redact(text)
    only(result, XPRV)
    assert result.text == "exported from my wallet:\n[REDACTED:extended_private_key]\nis this my account key?"
    assert_removed(text, result, [material.BIP32_VECTOR1_XPRV, material.BIP32_VECTOR1_XPRV[:20]])


def test_testnet_tprv_from_a_bip39_seed() -> None:
    from mnemonic import Mnemonic

    seed = Mnemonic.to_seed(" ".join(material.phrase("tprv")))
    tprv = material.master_xprv(seed, testnet=True)
    assert tprv.startswith("tprv") and is_extended_private_key(tprv)
    only(redact(f"tprv: {tprv}"), XPRV)


def test_mistyped_xprv_is_still_redacted() -> None:
    xprv = material.BIP32_VECTOR1_XPRV
    mistyped = xprv[:50] + ("a" if xprv[50] != "a" else "b") + xprv[51:]
    assert not is_extended_private_key(mistyped)
    assert redact(mistyped).text == "[REDACTED:extended_private_key]"


def test_xpub_is_public() -> None:
    assert redact(f"my xpub is {material.BIP32_VECTOR1_XPUB}").findings == ()


@pytest.mark.parametrize(
    "template",
    [
        "my private key is {}",
        "private key: 0x{}",
        "privkey={}",
        "Here is my secret key {} please check the balance",
        "私钥是{}",
        "我的私钥：0x{}，余额被转走了",
        "密钥 {}",
        "{} is my private key",
        "{} (private key)",
        "{}\n^ that's the private key I exported from MetaMask",
    ],
)
def test_hex_key_named_as_a_key(template: str) -> None:
    text = template.format(HEX_KEY)
    result = redact(text)
    only(result, KEY)
    assert_removed(text, result, [HEX_KEY, HEX_KEY[:16], HEX_KEY[-16:]])


@pytest.mark.parametrize(
    "template",
    [
        "{}",
        "my withdrawal is stuck, txid {}",
        "TXID: 0x{}",
        "交易哈希：{}",
        "here is the tx hash {} it has 3 confirmations",
        "the transaction {} shows success on etherscan but I got nothing",
        "I sent it to the address and the hash is {}",
        "my private key was stolen! they sent everything out, txid: {}",
    ],
)
def test_txid_is_not_a_secret(template: str) -> None:
    assert redact(template.format(TXID)).findings == ()


@pytest.mark.parametrize(
    ("template", "redacted"),
    [
        ("{}", False),
        ("txid {} and my private key is safe", False),
        ("I never shared my private key. TXID: {}", False),
        ("private key and txid: {}", False),
        ("private key: {}", True),
        ("my private key is {}", True),
        ("{} is my private key", True),
        ("私钥：{}", True),
    ],
)
def test_txid_form_only_redacts_values_called_a_private_key(template: str, redacted: bool) -> None:
    result = redact(template.format(TXID), allowed=TXID_FORM)
    assert bool(result.findings) is redacted


def test_both_a_txid_and_a_key_in_one_message() -> None:
    text = f"txid: {TXID}\nprivate key: {HEX_KEY}"
    result = redact(text)
    only(result, KEY)
    assert result.text == f"txid: {TXID}\nprivate key: [REDACTED:private_key]"


def test_base58_64_byte_secret_needs_key_context() -> None:
    secret = base58.b58encode(material.private_key("sol") + material.private_key("sol-pub")).decode()
    assert redact(f"signature {secret}").findings == ()
    assert redact(f"phantom private key: {secret}").text == "phantom private key: [REDACTED:private_key]"


@pytest.mark.parametrize(
    "text",
    [
        "my ETH address is 0x52908400098527886E0F7030069857D2E4169EE7",
        "BTC address bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "order id 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "public key: " + HEX_KEY,
    ],
)
def test_public_values_are_left_alone(text: str) -> None:
    assert redact(text).findings == ()
