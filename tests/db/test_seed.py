"""Seed files: the demo registry, idempotent application, clear errors, demo tokens."""

from __future__ import annotations

import stat
import tomllib
from datetime import date
from pathlib import Path

import pytest

from adapters.db.seed import (
    SeedError,
    apply_seed,
    demo_tokens,
    load_seed,
    parse_seed,
    read_tokens,
    write_tokens,
)
from tests.db.conftest import Store

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "participants.toml"
TODAY = date(2025, 3, 1)


def test_demo_seed_holds_the_parties_of_the_official_examples() -> None:
    """Gemeenten 0363, 0384 and aanbieders 42420001, 65656055 are registered and active."""
    seed = load_seed(DEMO)
    active = {p.code for p in seed.participants if p.active_on(TODAY)}
    assert {"0363", "0384", "42420001", "65656055"} <= active


def test_demo_traffic_plays_demo_only_parties_of_both_kinds() -> None:
    """The parties marked simulated are active demo-only ones of each kind, never the README's 0384/42420001."""
    seed = load_seed(DEMO)
    simulated = [p for p in seed.participants if p.code in seed.simulated]
    assert (["aanbieder"] * 3 + ["gemeente"] * 3, True, set()) == (
        sorted(p.kind for p in simulated),
        all(p.active_on(TODAY) and p.name.startswith("Demo") for p in simulated),
        {"0384", "42420001"} & seed.simulated,
    )


def test_simulated_must_be_a_boolean() -> None:
    """``simulated = "yes"`` is refused, naming the entry and the key."""
    entry = 'code = "0384"\nkind = "gemeente"\nname = "D"\nactive_from = 2015-01-01\nsimulated = "yes"\n'
    with pytest.raises(SeedError) as caught:
        parse_seed(tomllib.loads("[[participant]]\n" + entry), "demo.toml")
    assert "demo.toml: participant[0]: simulated must be a bool" == str(caught.value)


def test_demo_seed_has_a_retired_gemeente_and_aanbieder() -> None:
    """The demo has one retired party of each kind, to show refusals."""
    seed = load_seed(DEMO)
    retired = sorted(p.kind for p in seed.participants if not p.active_on(TODAY))
    assert retired == ["aanbieder", "gemeente"]


def test_demo_seed_homes_gemeenten_at_ggk_and_aanbieders_at_vecozo() -> None:
    """Every gemeente lives on the ggk node and every aanbieder on the vecozo node."""
    seed = load_seed(DEMO)
    homes = {(p.kind, p.home_node) for p in seed.participants}
    assert {("gemeente", "ggk"), ("aanbieder", "vecozo")} == homes


def test_demo_seed_has_a_submitter_relation() -> None:
    """One registered party submits on behalf of another."""
    seed = load_seed(DEMO)
    codes = {p.code for p in seed.participants}
    assert [s.submitter in codes and s.party in codes for s in seed.submitters] == [True]


async def test_applying_a_seed_twice_changes_nothing_the_second_time(store: Store) -> None:
    """A seed adds everything once; applied again, everything is unchanged."""
    seed = load_seed(DEMO)
    first = await apply_seed(store.registry, seed)
    second = await apply_seed(store.registry, seed)
    n = len(seed.participants)
    assert ((n, 0, 0), (0, 0, n)) == (
        (first.added, first.updated, first.unchanged),
        (second.added, second.updated, second.unchanged),
    )


async def test_seed_updates_changed_parties(store: Store) -> None:
    """A party whose data changed in the seed is updated."""
    await apply_seed(store.registry, parse_seed(_one("Old name")))
    applied = await apply_seed(store.registry, parse_seed(_one("New name")))
    assert (applied.updated, (await store.registry.participant("0363")).name) == (1, "New name")


async def test_seed_never_undoes_a_retirement(store: Store) -> None:
    """A party retired in the registry stays retired when the seed is applied again."""
    seed = load_seed(DEMO)
    await apply_seed(store.registry, seed)
    await store.registry.retire("0384", date(2024, 12, 31))
    await apply_seed(store.registry, seed)
    assert date(2024, 12, 31) == (await store.registry.participant("0384")).active_until


def _one(name: str) -> dict[str, object]:
    return {
        "participant": [{"code": "0363", "kind": "gemeente", "name": name, "active_from": date(2015, 1, 1)}]
    }


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            '[[participant]]\nkind = "gemeente"\nname = "X"\nactive_from = 2015-01-01\n',
            "participant[0]: missing code",
        ),
        (
            '[[participant]]\ncode = "0363"\nkind = "gemeente"\nname = "X"\nactive_from = "2015-01-01"\n',
            "participant[0]: active_from must be a date",
        ),
        (
            '[[participant]]\ncode = "0363"\nkind = "gemeente"\nname = "X"\nactive_from = 2015-01-01\ncolour = 1\n',
            "participant[0]: unknown key(s) colour",
        ),
        (
            '[[participant]]\ncode = "363"\nkind = "gemeente"\nname = "X"\nactive_from = 2015-01-01\n',
            "participant[0]: participant '363': a gemeente code has 4 digits",
        ),
        (
            '[[submitter]]\nsubmitter = "42420001"\nparty = "42420001"\nactive_from = 2015-01-01\n',
            "submitter[0]",
        ),
        ("[[people]]\n", "unknown table(s) people"),
        ("participant = [", "seed.toml"),
    ],
    ids=[
        "missing-code",
        "date-as-text",
        "unknown-key",
        "bad-code",
        "self-submitter",
        "unknown-table",
        "not-toml",
    ],
)
def test_seed_errors_name_the_entry_and_key(tmp_path: Path, text: str, names: str) -> None:
    """A broken seed file is refused with its file, entry and key in the message."""
    path = tmp_path / "seed.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert names in str(caught.value)


def test_seed_refuses_a_party_listed_twice() -> None:
    """A code may appear once in a seed."""
    data = {"participant": _one("A")["participant"] + _one("B")["participant"]}  # type: ignore[operator]
    with pytest.raises(SeedError):
        parse_seed(data)


async def test_demo_tokens_authenticate_their_parties(store: Store) -> None:
    """Each demo token authenticates the participant it is listed under."""
    await apply_seed(store.registry, load_seed(DEMO))
    tokens = await demo_tokens(store.registry, ["0384", "42420001"], {})
    owners = {code: await store.registry.authenticate(token) for code, token in tokens.items()}
    assert owners == {"0384": "0384", "42420001": "42420001"}


async def test_demo_tokens_keep_working_tokens_and_replace_revoked_ones(store: Store) -> None:
    """A second run keeps tokens that still work and issues new ones for revoked tokens."""
    await apply_seed(store.registry, load_seed(DEMO))
    first = await demo_tokens(store.registry, ["0384", "42420001"], {})
    await store.registry.revoke_credential(first["0384"].split(".")[0])
    second = await demo_tokens(store.registry, ["0384", "42420001"], first)
    assert (second["0384"] == first["0384"], second["42420001"] == first["42420001"]) == (False, True)


def test_token_file_round_trips_and_is_private(tmp_path: Path) -> None:
    """The demo token file reads back what was written and only its owner may read it."""
    path = tmp_path / "var" / "demo-tokens.json"
    write_tokens(path, {"0384": "abc.def"})
    mode = stat.S_IMODE(path.stat().st_mode)
    assert (read_tokens(path), mode) == ({"0384": "abc.def"}, 0o600)


def test_missing_or_broken_token_file_reads_as_empty(tmp_path: Path) -> None:
    """No file, or a file that is not a JSON object, gives no tokens."""
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]", encoding="utf-8")
    assert (read_tokens(tmp_path / "absent.json"), read_tokens(broken)) == ({}, {})
