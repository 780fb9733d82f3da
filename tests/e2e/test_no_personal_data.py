"""No personal data where it does not belong: whole conversations over both nodes and the real broker, with
every log line captured, and no BSN, name or address of the messages anywhere but in the delivered message.

The messages carry fresh, unique values (a valid BSN, surname, first names, street, postcode, place), so a
hit can only come from the messages. Looked for in: everything written to stdout/stderr (structlog) and every
stdlib log record (DEBUG and up, libraries included), every answer except the mailbox lease that hands the
recipient its message (202 and problem+json answers, track & trace, metrics, public keys), and a dump of
every table of the database.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import string
from pathlib import Path

import httpx
import pytest

from tests.harness import OPERATOR_TOKEN, GatewayUnderTest
from tests.messages import example, first, new_id, set_all, set_header

pytestmark = [pytest.mark.broker, pytest.mark.shared]

AANBIEDER, GEMEENTE = "42420001", "0384"
HEEN = {  # message -> (sender, recipient); every one of them names a client
    "JW301": (GEMEENTE, AANBIEDER),
    "JW305": (AANBIEDER, GEMEENTE),
    "JW307": (AANBIEDER, GEMEENTE),
    "JW315": (AANBIEDER, GEMEENTE),
    "JW317": (AANBIEDER, GEMEENTE),
    "JW323": (AANBIEDER, GEMEENTE),
    "WMO301": (GEMEENTE, AANBIEDER),
    "WMO305": (AANBIEDER, GEMEENTE),
    "WMO307": (AANBIEDER, GEMEENTE),
    "WMO315": (AANBIEDER, GEMEENTE),
    "WMO317": (AANBIEDER, GEMEENTE),
}


def bsn() -> str:
    """A random BSN that passes the eleven-test."""
    while True:
        digits = [secrets.randbelow(9) + 1, *(secrets.randbelow(10) for _ in range(7))]
        check = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def word(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_lowercase) for _ in range(6))


@pytest.fixture
def person() -> dict[str, str]:
    """One person's data, unique to this test run (element name -> value)."""
    letters = "".join(secrets.choice(string.ascii_uppercase) for _ in range(2))
    return {
        "Bsn": bsn(),
        "Achternaam": word("Zwanenburgh"),
        "Voornamen": word("Annelotte"),
        "Straatnaam": word("Kwelderpad"),
        "Postcode": f"{secrets.randbelow(9000) + 1000}{letters}",
        "Plaatsnaam": word("Oudemirdum"),
    }


def about(name: str, person: dict[str, str], sender: str, recipient: str) -> bytes:
    data = set_header(example(name), Afzender=sender, Ontvanger=recipient, Identificatie=new_id())
    for element, value in person.items():
        # one client per message carries the person (a 323 with two clients keeps the other's own BSN:
        # the same BSN twice would break TR101)
        data = set_header(data, Bsn=value) if element == "Bsn" else set_all(data, element, value)
    return data


async def answers_and_traces(
    gw: GatewayUnderTest, person: dict[str, str], seen: list[tuple[str, str]]
) -> list[str]:
    """Run the conversations and the refusals; every answer's text (except what hands over a message)."""
    tracking: list[tuple[str, str, str]] = []
    for name, (sender, recipient) in HEEN.items():
        data = about(name, person, sender, recipient)
        assert person["Bsn"].encode() in data
        answer = await gw.submit(sender, data)
        assert 202 == answer.status_code, answer.text
        seen.append((f"202 {name}", answer.text))
        tracking.append((answer.json()["trackingId"], sender, recipient))
        body, _ = await gw.receive(recipient)  # the recipient's own copy: the one place the data belongs
        assert data == body
        again = await gw.submit(sender, data)  # the same bytes: answered with the first result
        seen.append((f"again {name}", again.text))
    heen = about("WMO301", person, GEMEENTE, AANBIEDER)  # the message with a name and an address
    for element in ("Bsn", "Achternaam", "Postcode", "Straatnaam"):
        assert person[element].encode() in heen, element
    identificatie = first(heen, "Identificatie")
    other_content = set_header(
        heen.replace(person["Voornamen"].encode(), b"Anders"), Identificatie=identificatie
    )

    async def send(data: bytes, party: str = GEMEENTE) -> httpx.Response:
        return await gw.submit(party, data, node="ggk")

    refusals = {
        "wrong sender": await send(heen, "0363"),
        "bad postcode": await send(heen.replace(person["Postcode"].encode(), b"ZZ" + b"9" * 7)),
        "long surname": await send(
            heen.replace(person["Achternaam"].encode(), person["Achternaam"].encode() * 20)
        ),
        "bad bsn": await send(heen.replace(person["Bsn"].encode(), person["Bsn"].encode() + b"7")),
        "broken xml": await send(heen.replace(b"</", b"<", 5)),
        "unknown namespace": await send(heen.replace(b"wmo301/schema", b"wmo999/schema")),
    }
    assert 202 == (await send(heen)).status_code  # the first use of that Identificatie
    refusals["other content, same Identificatie"] = await send(other_content)
    await gw.receive(AANBIEDER)
    for what, response in refusals.items():
        assert response.status_code >= 400, (what, response.text)
        seen.append((f"refusal {what}", response.text))
        tracking_id = response.json().get("trackingId")
        if tracking_id:
            tracking.append((tracking_id, GEMEENTE, AANBIEDER))
    for tracking_id, sender, recipient in tracking:
        for party in (sender, recipient):
            client = gw.clients[gw.home(party)]
            trace = await client.get(f"/v1/berichten/{tracking_id}", headers=gw.auth(party))
            seen.append((f"trace {tracking_id} as {party}", trace.text))
        for node, client in gw.clients.items():
            operator = await client.get(
                f"/v1/berichten/{tracking_id}", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            )
            seen.append((f"operator trace on {node}", operator.text))
    for node, client in gw.clients.items():
        for path in ("/metrics", "/v1/keys", "/healthz", "/readyz", "/openapi.json"):
            operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            response: httpx.Response = await client.get(path, headers=operator)
            if response.status_code == 200:
                seen.append((f"{node} {path}", response.text))
    return [text for _, text in seen]


def database_dump(gw: GatewayUnderTest) -> str:
    """Every table of the SQLite database, as SQL text."""
    path = Path(gw.runtime.settings.database_url.split("///", 1)[1])
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())


async def test_no_personal_data_in_logs_answers_tracking_metrics_or_database(
    gw: GatewayUnderTest,
    person: dict[str, str],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No BSN, name or address of the messages appears in any log, answer, trace, metric or table."""
    caplog.set_level(logging.DEBUG)
    seen: list[tuple[str, str]] = []
    await answers_and_traces(gw, person, seen)
    protection = gw.runtime.protection
    assert protection is not None
    await protection.audit.flush()
    await protection.index.flush()
    await gw.runtime.db.tracking.flush()
    out, err = capfd.readouterr()
    records = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in caplog.records
    )
    places = {"stdout": out, "stderr": err, "logging": records, "database": database_dump(gw)}
    places.update({label: text for label, text in seen})
    found = sorted(
        (element, place)
        for element, value in person.items()
        for place, text in places.items()
        if value in text
    )
    assert [] == found
    assert len(caplog.records) > 0 and "message.accepted" in out  # the capture did see the gateway's logs
