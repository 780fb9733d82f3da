"""API credential tokens: their shape, their hash, and what is kept."""

from __future__ import annotations

from adapters.db import credentials


def test_token_is_key_id_dot_secret() -> None:
    """A token is 16 hex characters, a dot and a 43-character URL-safe secret."""
    token, hashed = credentials.new_token()
    key_id, secret = token.split(".")
    assert (hashed.key_id, 16, 43) == (key_id, len(key_id), len(secret))


def test_stored_form_holds_neither_token_nor_secret() -> None:
    """What is stored (salt and digest) does not contain the secret."""
    token, hashed = credentials.new_token()
    secret = token.split(".")[1]
    assert (secret in hashed.digest + hashed.salt, secret in repr(hashed)) == (False, False)


def test_token_matches_its_own_digest_only() -> None:
    """A token matches its own stored digest and not another token's."""
    token, hashed = credentials.new_token()
    other, _ = credentials.new_token()
    assert (
        credentials.matches(token, hashed.salt, hashed.digest),
        credentials.matches(other, hashed.salt, hashed.digest),
    ) == (True, False)


def test_same_secret_hashes_differently_per_row() -> None:
    """Every credential has its own salt, so equal digests reveal nothing."""
    digests = {credentials.new_token()[1].salt for _ in range(5)}
    assert len(digests) == 5


def test_key_id_of_rejects_malformed_tokens() -> None:
    """Only ``{16 hex}.{secret}`` yields a key id."""
    candidates = [
        "",
        "abc",
        "0123456789abcdef",
        "0123456789abcdeg.x",
        "0123456789abcdef.",
        "0123456789abcdef.s",
    ]
    assert [credentials.key_id_of(c) for c in candidates] == [
        None,
        None,
        None,
        None,
        None,
        "0123456789abcdef",
    ]
