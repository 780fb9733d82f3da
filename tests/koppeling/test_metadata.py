"""``berichtMetadata`` as the push spec allows it, and its agreement with the message header."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from gateway.koppeling.metadata import read_metadata, read_zoekpad
from gateway.koppeling.problems import BadRequest, MetadataMismatch, NotFictitious
from gateway.koppeling.push import agreement
from gateway.standard.header import Header
from tests.koppeling.vendor import metadata


class _Kind:
    name, sender, retour, answers, follows = "WMO315", "aanbieder", False, None, ()


HEADER = Header("iwmo", "3.2", "WMO315", "444", "42420001", "0384", "abc", date(2026, 1, 1))


def _raw(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta).encode()


def test_metadata_as_the_spec_reads() -> None:
    """Metadata a vendor writes from the spec is read with its ids in canonical form."""
    meta = metadata("42420001", "0384", "WMO315", referentie_id="eigen-123")
    found = read_metadata(_raw(meta))
    assert (meta["referentiegegevens"]["traceerId"], "eigen-123") == (
        found.referentiegegevens.traceerId,
        found.referentiegegevens.referentieId,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m["routeringgegevens"].pop("afzender"), "berichtMetadata.routeringgegevens.afzender"),
        (lambda m: m.update(extra=1), "berichtMetadata.extra"),
        (
            lambda m: m["routeringgegevens"]["berichtstroom"].update(berichtversie="3"),
            "berichtMetadata.routeringgegevens.berichtstroom.berichtversie",
        ),
        (
            lambda m: m["routeringgegevens"]["berichtstroom"].update(berichtversie=1000),
            "berichtMetadata.routeringgegevens.berichtstroom.berichtversie",
        ),
        (
            lambda m: m["referentiegegevens"].update(referentieId="x" * 151),
            "berichtMetadata.referentiegegevens.referentieId",
        ),
        (lambda m: m["referentiegegevens"].update(alsAntwoordOp=None), "berichtMetadata.referentiegegevens"),
        (lambda m: m.update(verwerkingscontext=[]), "berichtMetadata.verwerkingscontext"),
    ],
)
def test_metadata_against_the_spec_names_the_field(change: Any, field: str) -> None:
    """A missing, unknown, mistyped, out-of-range or null field is a BadRequest naming that field."""
    meta = metadata("42420001", "0384", "WMO315")
    change(meta)
    with pytest.raises(BadRequest) as caught:
        read_metadata(_raw(meta))
    assert any(name.startswith(field) for name in caught.value.fields), caught.value.fields


def test_metadata_that_agrees_with_the_header_passes() -> None:
    """Sender, addressee, message and release as in the header: no objection."""
    agreement(read_metadata(_raw(metadata("42420001", "0384", "WMO315"))))(HEADER, _Kind())


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        (metadata("42420002", "0384", "WMO315"), "afzender.code"),
        (metadata("42420001", "0363", "WMO315"), "geadresseerden"),
        (metadata("42420001", "0384", "WMO317"), "berichtstroom.berichttype"),
        (metadata("42420001", "0384", "WMO315", subversie=1), "berichtstroom"),
    ],
)
def test_metadata_that_disagrees_is_brs33_naming_the_field(meta: dict[str, Any], field: str) -> None:
    """Each disagreement with the header is reported by its metadata field (BRS33)."""
    with pytest.raises(MetadataMismatch) as caught:
        agreement(read_metadata(_raw(meta)))(HEADER, _Kind())
    assert [f"berichtMetadata.routeringgegevens.{field}"] == [e.path for e in caught.value.errors]


def test_a_real_bsn_on_a_test_environment_is_brs18() -> None:
    """On a test environment only BSNs of the test range pass."""
    meta = read_metadata(_raw(metadata("42420001", "0384", "WMO315")))
    real = _fields(HEADER, ("111222333",))
    with pytest.raises(NotFictitious):
        agreement(meta, fictitious_only=True)(real, _Kind())
    agreement(meta, fictitious_only=True)(_fields(HEADER, ("999900006",)), _Kind())


def _fields(header: Header, bsns: tuple[str, ...]) -> Header:
    import dataclasses

    return dataclasses.replace(header, client_bsns=bsns)


@pytest.mark.parametrize(
    "zoekpad",
    [
        {"zoekpadType": "ZoekpadOpConversatieId"},
        {"zoekpadType": "Onbekend", "berichttype": "WMO301"},
        {"zoekpadType": "ZoekpadOpAlsAntwoordOp", "alsAntwoordOp": "no-uuid"},
        {
            "zoekpadType": "ZoekpadOpConversatieId",
            "conversatieId": "3f0c1a9e-0000-4000-8000-000000000001",
            "berichttype": "X",
        },
    ],
)
def test_a_search_path_against_the_spec_is_a_bad_request(zoekpad: dict[str, Any]) -> None:
    """A search path without its field, of an unknown type, with a bad id or a foreign field: BadRequest."""
    with pytest.raises(BadRequest):
        read_zoekpad(json.dumps(zoekpad).encode())


@pytest.mark.parametrize(
    "stroom",
    [
        '{"berichttype":"WMO315","berichtversie":3,"berichtsubversie":2,"actie":"Indienen"}',
        '{"berichttype":"WMO315","berichtsubtype":"WMO315","berichtversie":3,"berichtsubversie":2,"actie":"A"}',
        '{"actie":"A","berichtsubversie":0,"berichtversie":0,"berichtsubtype":null,"berichttype":"x"}',
    ],
)
def test_the_stated_berichtstroom_is_its_model_dump(stroom: str) -> None:
    """What a push keeps of its berichtstroom is pydantic's ``model_dump(exclude_none=True)``, in its order."""
    from gateway.koppeling.metadata import Berichtstroom
    from gateway.koppeling.push import _stroom

    read = Berichtstroom.model_validate_json(stroom)
    dumped = read.model_dump(exclude_none=True)
    assert list(_stroom(read).items()) == list(dumped.items())
