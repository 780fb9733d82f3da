"""The demo traffic of ``scripts/run`` plays demo-only parties, so the README's first exchange is left alone."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from adapters.db.seed import load_seed, write_tokens
from gateway.cli import _load, app
from gateway.simulate.run import Simulation
from tests.harness import DEMO_SEED

README_PARTIES = {"0384", "42420001"}


def test_simulation_from_the_demo_seed_never_touches_the_readme_parties() -> None:
    """With the seed's simulated parties, no counterpart reads 0384/42420001 and no message is sent to or by them."""
    seed = load_seed(DEMO_SEED)
    tokens = {p.code: f"token-{p.code}" for p in seed.participants}
    clients = {
        "ggk": httpx.AsyncClient(base_url="http://ggk.invalid"),
        "vecozo": httpx.AsyncClient(base_url="http://vecozo.invalid"),
    }
    sim = Simulation(clients, tokens, seed=1, only=seed.simulated)
    traffic = sim.traffic()
    touched = {code for _ in range(2000) for code in traffic.next_message()[0:1]}
    touched |= set(traffic.municipalities) | set(traffic.providers)
    readers = {c.party.code for c in sim.counterparts}
    assert (set(), set(), seed.simulated) == (README_PARTIES & touched, README_PARTIES & readers, readers)


def test_parties_from_a_seed_without_simulated_parties_is_refused(tmp_path: Path) -> None:
    """``gateway simulate --parties-from`` a seed that marks no party says so in one line and exits 2."""
    seed = tmp_path / "seed.toml"
    seed.write_text(
        '[[participant]]\ncode = "0384"\nkind = "gemeente"\nname = "D"\nactive_from = 2015-01-01\n'
    )
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, {"0384": "x.y"})
    _load()
    result = CliRunner().invoke(app, ["simulate", "--tokens", str(tokens), "--parties-from", str(seed)])
    assert (2, f"{seed}: no participant is marked `simulated = true`\n") == (result.exit_code, result.output)
