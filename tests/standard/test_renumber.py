"""``gateway example NAME --fresh``: an official example with a new Identificatie, valid for its XSD."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import example as example_cli
from gateway.errors import NotWellFormed
from gateway.standard.engine import Engine
from gateway.standard.renumber import renumbered

from .conftest import OFFICIAL_XSD, SHARED, shared_or_skip


def _cli() -> typer.Typer:
    app = typer.Typer()
    example_cli.register(app)
    app.command("unused")(lambda: None)  # two commands: the example command keeps its name
    return app


def _run(*args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(_cli(), ["example", *args, "--dir", str(SHARED)])
    return result.exit_code, result.stdout_bytes, result.stderr


def test_renumbered_changes_only_the_identificatie() -> None:
    """Only the header's Identificatie changes; every other byte stays as it was."""
    data = b"<a:B xmlns:a='u'><a:Header><a:Identificatie> 1 </a:Identificatie></a:Header><a:Identificatie>x</a:Identificatie></a:B>"
    assert (
        b"<a:B xmlns:a='u'><a:Header><a:Identificatie>new</a:Identificatie></a:Header><a:Identificatie>x</a:Identificatie></a:B>"
        == renumbered(data, "new")
    )


def test_renumbered_sets_the_identificatie_retour_of_a_retour() -> None:
    """A retour is keyed on its IdentificatieRetour: that is the value that changes."""
    data = b"<B><Header><Identificatie>1</Identificatie><IdentificatieRetour>2</IdentificatieRetour></Header></B>"
    assert (
        b"<B><Header><Identificatie>1</Identificatie><IdentificatieRetour>r</IdentificatieRetour></Header></B>"
        == (renumbered(data, "r"))
    )


@pytest.mark.parametrize("value", ["", "   ", "1234567890123"])
def test_renumbered_refuses_a_value_the_xsd_refuses(value: str) -> None:
    """An Identificatie has 1 to 12 characters, not only white space (LDT_IdentificatieBericht)."""
    with pytest.raises(ValueError, match="1 to 12 characters"):
        renumbered(b"<B><Header><Identificatie>1</Identificatie></Header></B>", value)


def test_renumbered_refuses_what_is_not_a_message() -> None:
    """Not well-formed XML and a message without a header Identificatie are refused."""
    with pytest.raises(NotWellFormed):
        renumbered(b"<B>")
    with pytest.raises(ValueError, match="no Identificatie"):
        renumbered(b"<B><Header><Afzender>1</Afzender></Header></B>")


@pytest.mark.shared
@pytest.mark.parametrize("name", ["WMO315", "JW301", "JW302", "WMO305"])
def test_fresh_example_is_valid_and_new_every_time(name: str) -> None:
    """Two ``--fresh`` prints of an official example are valid for the official XSD and have other keys."""
    shared_or_skip()
    engine = Engine.load(list(OFFICIAL_XSD))
    (code1, first, _), (code2, second, _), (code3, plain, _) = (
        _run(name, "--fresh"),
        _run(name, "--fresh"),
        _run(name),
    )
    one, two, original = engine.check(first), engine.check(second), engine.check(plain)
    key = "identificatie_retour" if original.identificatie_retour else "identificatie"
    keys = {getattr(h, key) for h in (one, two, original)}
    assert ((0, 0, 0), 3, True) == (
        (code1, code2, code3),
        len(keys),
        (one.afzender, one.ontvanger, one.message)
        == (original.afzender, original.ontvanger, original.message),
    )


@pytest.mark.shared
def test_unknown_example_is_one_line_and_exit_2() -> None:
    """An unknown name says where it looked and which examples there are, on stderr, exit code 2."""
    shared_or_skip()
    code, out, err = _run("WMO999")
    assert (2, b"", 1) == (code, out, len(err.splitlines()))
    assert "no example WMO999 in" in err and "WMO315" in err
