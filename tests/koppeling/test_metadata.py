"""``berichtMetadata`` as the push spec allows it, and its agreement with the message header."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from gateway.koppeling.metadata import read_metadata, read_stated, read_zoekpad
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
    agreement(read_stated(_raw(metadata("42420001", "0384", "WMO315"))))(HEADER, _Kind())


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
        agreement(read_stated(_raw(meta)))(HEADER, _Kind())
    assert [f"berichtMetadata.routeringgegevens.{field}"] == [e.path for e in caught.value.errors]


def test_a_real_bsn_on_a_test_environment_is_brs18() -> None:
    """On a test environment only BSNs of the test range pass."""
    meta = read_stated(_raw(metadata("42420001", "0384", "WMO315")))
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


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in ``doc`` (objects and lists too)."""
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _leaves(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _leaves(value, (*path, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(doc)
    if not path:
        return value
    target = out
    for step in path[:-1]:
        target = target[step]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DROP = object()
_UUID = "3F0C1A9E-0000-4000-8000-00000000000A"
_VALUES = (_DROP, None, "", "x", "x" * 61, "x" * 101, "x" * 151, "nullable", _UUID, 0, 3, -1, 999, 1000,
           3.0, True, 2**70, [], [{"rol": "Gemeente"}], {}, {"extra": 1})  # fmt: skip


def _corpus() -> list[bytes]:
    """Metadata a vendor may send, right and wrong: the full form (every optional field, upper-case UUIDs),
    each value in turn replaced by (or without) each of :data:`_VALUES`, an unknown field in each object,
    and JSON that is not of the form at all."""
    full = metadata("42420001", "0384", "WMO315", als_antwoord_op=_UUID, referentie_id="eigen-1")
    full["routeringgegevens"]["berichtstroom"]["berichtsubtype"] = "WMO315"
    full["routeringgegevens"]["geadresseerden"].append({"rol": "Gemeente"})
    full["verwerkingscontext"] = [{"sleutel": "k", "waarde": ["v"]}]
    docs: list[Any] = [full, metadata("42420001", "0384", "WMO315")]
    for path in _leaves(full):
        docs += [_set(full, path, value) for value in _VALUES if path or value is not _DROP]
        target = _set(full, (), full)
        for step in path:
            target = target[step]
        if isinstance(target, dict):
            docs.append(_set(full, (*path, "onbekend"), "x"))
    raws = [json.dumps(doc).encode() for doc in docs]
    plain = json.dumps(metadata("42420001", "0384", "WMO315"))
    raws += [
        plain.replace('"WMO315"', '"\\u0057MO315"').encode(),  # an escape
        plain.replace('{"routeringgegevens"', '{"routeringgegevens": 1, "routeringgegevens"').encode(),
        plain.replace(": ", ":").encode(),
        plain.encode() + b" x",
        b"\xef\xbb\xbf" + plain.encode(),
        plain.replace('"berichtversie": 3', '"berichtversie": NaN').encode(),
        b"", b"null", b"[]", b"{", b'"x"', b"{}",
    ]  # fmt: skip
    return raws


def _outcome(read: Any, raw: bytes) -> tuple[Any, ...]:
    try:
        found = read(raw)
    except BadRequest as exc:
        return ("refused", exc.detail, exc.fields)
    return ("read", json.dumps(found))  # the values and every object's order


def test_a_push_reads_its_metadata_as_the_models_do() -> None:
    """What a push reads of its metadata (without building the models) is what the models read, dumped
    without the absent fields, in the same order; what they refuse it refuses with the same faults."""
    corpus = _corpus()
    outcomes = [(_outcome(read_stated, raw), raw) for raw in corpus]
    for stated, raw in outcomes:
        assert _outcome(lambda r: read_metadata(r).model_dump(exclude_none=True), raw) == stated, raw
    kinds = [o[0][0] for o in outcomes]
    assert (kinds.count("read"), kinds.count("refused")) > (10, 100), kinds
