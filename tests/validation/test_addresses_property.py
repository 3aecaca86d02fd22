"""Property tests: properly encoded random addresses are accepted, single substitutions are rejected."""

from __future__ import annotations

import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.validation import AssetCatalog, load_asset_catalog, validate_address
from tests.validation.encoders import (
    BECH32_CHARSET,
    BTC_ALPHABET,
    XRP_ALPHABET,
    b58check,
    b58encode,
    eip55,
    segwit_address,
    ton_address,
    xrp_classic,
    xrp_x_address,
)

CATALOG: AssetCatalog = load_asset_catalog()
PROPERTY = settings(max_examples=200, deadline=None)
hash20 = st.binary(min_size=20, max_size=20)
hash32 = st.binary(min_size=32, max_size=32)

BASE58_NETWORKS = {
    "BTC": (0x00, 0x05),
    "LTC": (0x30, 0x32, 0x05),
    "DOGE": (0x1E, 0x16),
    "TRON": (0x41,),
}
base58_case = st.sampled_from(sorted(BASE58_NETWORKS)).flatmap(
    lambda net: st.tuples(st.just(net), st.sampled_from(BASE58_NETWORKS[net]), hash20)
)


@st.composite
def substitution(draw: st.DrawFn, text: str, alphabet: str, start: int = 0) -> str:
    """``text`` with one character (at or after ``start``) replaced by another from ``alphabet``."""
    index = draw(st.integers(min_value=start, max_value=len(text) - 1))
    replacement = draw(st.sampled_from([c for c in alphabet if c != text[index]]))
    return text[:index] + replacement + text[index + 1 :]


def accepted(address: str, network: str) -> bool:
    return validate_address(address, network, CATALOG).ok


@PROPERTY
@given(base58_case)
def test_base58check_addresses_are_accepted(case: tuple[str, int, bytes]) -> None:
    network, version, payload = case
    address = b58check(bytes([version]) + payload)
    result = validate_address(address, network, CATALOG)
    assert result.ok, (address, result.reason)
    assert result.value == address


@PROPERTY
@given(base58_case, st.data())
def test_base58check_substitutions_are_rejected(case: tuple[str, int, bytes], data: st.DataObject) -> None:
    network, version, payload = case
    address = b58check(bytes([version]) + payload)
    corrupted = data.draw(substitution(address, BTC_ALPHABET))
    result = validate_address(corrupted, network, CATALOG)
    assert not result.ok
    assert result.reason_code in {"bad_checksum", "wrong_length", "wrong_version"}


segwit_case = st.one_of(
    st.tuples(st.just(0), st.sampled_from([20, 32])),
    st.tuples(st.just(1), st.just(32)),
    st.tuples(st.integers(min_value=1, max_value=16), st.integers(min_value=2, max_value=40)),
).flatmap(
    lambda vl: st.tuples(
        st.sampled_from([("BTC", "bc"), ("LTC", "ltc")]),
        st.just(vl[0]),
        st.binary(min_size=vl[1], max_size=vl[1]),
    )
)


@PROPERTY
@given(segwit_case, st.booleans())
def test_segwit_addresses_are_accepted(case: tuple[tuple[str, str], int, bytes], upper: bool) -> None:
    (network, hrp), version, program = case
    address = segwit_address(hrp, version, program)
    result = validate_address(address.upper() if upper else address, network, CATALOG)
    assert result.ok, (address, result.reason)
    assert result.value == address


@PROPERTY
@given(segwit_case, st.data())
def test_segwit_substitutions_are_rejected(
    case: tuple[tuple[str, str], int, bytes], data: st.DataObject
) -> None:
    (network, hrp), version, program = case
    address = segwit_address(hrp, version, program)
    corrupted = data.draw(substitution(address, BECH32_CHARSET, start=len(hrp) + 1))
    assert not accepted(corrupted, network)


@PROPERTY
@given(hash20, st.sampled_from(["ERC20", "BEP20", "Arbitrum", "Polygon", "Base"]))
def test_eip55_and_lower_case_evm_addresses_are_accepted(payload: bytes, network: str) -> None:
    checksummed = eip55(payload)
    for form in (checksummed, checksummed.lower(), "0x" + checksummed[2:].upper()):
        result = validate_address(form, network, CATALOG)
        assert result.ok, (form, result.reason)
        assert result.value == checksummed


@PROPERTY
@given(hash20, st.data())
def test_eip55_case_flips_are_always_rejected(payload: bytes, data: st.DataObject) -> None:
    address = eip55(payload)
    letters = [i for i, c in enumerate(address) if i >= 2 and c.isalpha()]
    assume(letters)
    index = data.draw(st.sampled_from(letters))
    flipped = address[:index] + address[index].swapcase() + address[index + 1 :]
    body = flipped[2:]
    # A flip that leaves every letter in one case gives an unchecksummed address, valid by definition.
    assume(body not in (body.lower(), body.upper()))
    result = validate_address(flipped, "ERC20", CATALOG)
    assert result.reason_code == "bad_checksum"


@PROPERTY
@given(hash20, st.data())
def test_eip55_substitutions_are_rejected_unless_they_make_another_checksummed_address(
    payload: bytes, data: st.DataObject
) -> None:
    # EIP-55 cannot catch every substitution: the new address's own checksum may happen to fit its
    # letters' cases. Such a string is a genuinely valid address, so it must be accepted.
    address = eip55(payload)
    corrupted = data.draw(substitution(address, string.hexdigits, start=2))
    body = corrupted[2:]
    self_consistent = body in (body.lower(), body.upper()) or eip55(bytes.fromhex(body)) == corrupted
    result = validate_address(corrupted, "ERC20", CATALOG)
    if self_consistent:
        assert result.ok
    else:
        assert result.reason_code == "bad_checksum"


@PROPERTY
@given(hash20)
def test_xrp_classic_and_x_addresses_are_accepted(account: bytes) -> None:
    assert accepted(xrp_classic(account), "XRP")
    assert accepted(xrp_x_address(account, None), "XRP")
    assert accepted(xrp_x_address(account, 12345), "XRP")


@PROPERTY
@given(hash20, st.data())
def test_xrp_substitutions_are_rejected(account: bytes, data: st.DataObject) -> None:
    address = xrp_classic(account)
    corrupted = data.draw(substitution(address, XRP_ALPHABET))
    assert not accepted(corrupted, "XRP")


@PROPERTY
@given(hash32, st.sampled_from([0, -1]), st.booleans(), st.booleans())
def test_ton_friendly_addresses_are_accepted(account: bytes, workchain: int, bounce: bool, url: bool) -> None:
    address = ton_address(workchain, account, bounceable=bounce, url_safe=url)
    result = validate_address(address, "TON", CATALOG)
    assert result.ok, (address, result.reason)
    raw = f"{workchain}:{account.hex().upper()}"
    assert validate_address(raw, "TON", CATALOG).value == f"{workchain}:{account.hex()}"


@PROPERTY
@given(hash32, st.booleans(), st.data())
def test_ton_substitutions_are_rejected(account: bytes, url: bool, data: st.DataObject) -> None:
    address = ton_address(0, account, bounceable=True, url_safe=url)
    alphabet = string.ascii_letters + string.digits + ("-_" if url else "+/")
    corrupted = data.draw(substitution(address, alphabet))
    assert not accepted(corrupted, "TON")


@PROPERTY
@given(hash32)
def test_ton_testnet_flag_is_refused(account: bytes) -> None:
    address = ton_address(0, account, bounceable=True, url_safe=True, testnet=True)
    assert validate_address(address, "TON", CATALOG).reason_code == "testnet_address"


@PROPERTY
@given(hash32)
def test_solana_public_keys_are_accepted(key: bytes) -> None:
    address = b58encode(key)
    result = validate_address(address, "SOL", CATALOG)
    assert result.ok, (address, result.reason)


@PROPERTY
@given(hash32, st.data())
def test_solana_characters_outside_base58_are_named(key: bytes, data: st.DataObject) -> None:
    # Solana addresses carry no checksum, so only alphabet and length errors can be detected.
    address = b58encode(key)
    corrupted = data.draw(substitution(address, "0OIl"))
    result = validate_address(corrupted, "SOL", CATALOG)
    assert result.reason_code == "bad_character"


@PROPERTY
@given(st.binary(min_size=33, max_size=40) | st.binary(min_size=1, max_size=31))
def test_solana_wrong_sizes_are_rejected(key: bytes) -> None:
    result = validate_address(b58encode(b"\x01" + key[1:]), "SOL", CATALOG)
    assert result.reason_code == "wrong_length"
