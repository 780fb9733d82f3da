"""The participant registry: participants, submitters, credentials (fake, SQLite, PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adapters.db import DuplicateParticipant, InvalidParticipant, Submitter, UnknownParticipant
from tests.db.conftest import Store
from tests.db.values import DAY, aanbieder, gemeente


async def test_added_participant_reads_back(store: Store) -> None:
    """A registered participant is returned as it was added."""
    p = gemeente("0363", active_until=date(2030, 12, 31), delivery_format="stuf")
    await store.registry.add_participant(p)
    assert p == await store.registry.participant("0363")


async def test_unknown_participant_is_none(store: Store) -> None:
    """Asking for a code that is not registered gives None."""
    assert None is await store.registry.participant("0000")


async def test_adding_a_code_twice_is_refused(store: Store) -> None:
    """A code can be registered once."""
    await store.registry.add_participant(gemeente("0363"))
    with pytest.raises(DuplicateParticipant):
        await store.registry.add_participant(gemeente("0363", name="Other"))


@pytest.mark.parametrize(
    "participant",
    [
        gemeente("363"),
        aanbieder("4242000"),
        gemeente("03a3"),
        gemeente("0363", home_node="elsewhere"),
        gemeente("0363", delivery_format="pdf"),
        gemeente("0363", name=" "),
        gemeente("0363", active_from=date(2020, 1, 1), active_until=date(2019, 1, 1)),
    ],
    ids=["short-cbs", "short-agb", "letters", "node", "format", "blank-name", "until-before-from"],
)
async def test_invalid_participant_is_refused(store: Store, participant: object) -> None:
    """Codes of the wrong shape, unknown nodes or formats and inverted ranges are refused."""
    with pytest.raises(InvalidParticipant):
        await store.registry.add_participant(participant)


async def test_update_replaces_the_data(store: Store) -> None:
    """Updating a participant stores the new data."""
    await store.registry.add_participant(aanbieder("42420001"))
    changed = aanbieder("42420001", name="Renamed", delivery_format="stuf")
    await store.registry.update_participant(changed)
    assert changed == await store.registry.participant("42420001")


async def test_update_of_unknown_participant_is_refused(store: Store) -> None:
    """Only a registered participant can be updated."""
    with pytest.raises(UnknownParticipant):
        await store.registry.update_participant(gemeente("0363"))


async def test_retired_participant_is_inactive_after_its_last_day(store: Store) -> None:
    """Retiring sets the last active day; the day after, the party is no longer active."""
    await store.registry.add_participant(gemeente("0384"))
    await store.registry.retire("0384", DAY)
    found = await store.registry.participant("0384")
    assert (found.active_on(DAY), found.active_on(date(2025, 3, 2))) == (True, False)


async def test_retiring_never_extends_an_earlier_end(store: Store) -> None:
    """Retiring a party that already ended keeps the earlier end."""
    await store.registry.add_participant(gemeente("0370", active_until=date(2021, 12, 31)))
    ended = await store.registry.retire("0370", DAY)
    assert date(2021, 12, 31) == ended.active_until == (await store.registry.participant("0370")).active_until


async def test_retiring_before_the_start_means_never_active(store: Store) -> None:
    """A party retired before its first day is never active."""
    await store.registry.add_participant(gemeente("0518", active_from=date(2026, 1, 1)))
    ended = await store.registry.retire("0518", DAY)
    assert False is ended.active_on(date(2026, 1, 1))


async def test_retiring_unknown_participant_is_refused(store: Store) -> None:
    """Only a registered participant can be retired."""
    with pytest.raises(UnknownParticipant):
        await store.registry.retire("0000", DAY)


async def test_participants_are_listed_by_code_and_filtered(store: Store) -> None:
    """The list is ordered by code and can be narrowed to a kind and to parties active on a day."""
    for p in (aanbieder("65656055"), gemeente("0384"), gemeente("0370", active_until=date(2021, 12, 31))):
        await store.registry.add_participant(p)
    everyone = [p.code for p in await store.registry.participants()]
    gemeenten_now = [p.code for p in await store.registry.participants("gemeente", DAY)]
    assert (everyone, gemeenten_now) == (["0370", "0384", "65656055"], ["0384"])


async def test_submitter_may_submit_within_its_range(store: Store) -> None:
    """A registered submitter may send for the party from its first through its last day only."""
    for p in (aanbieder("42420001"), aanbieder("42420099")):
        await store.registry.add_participant(p)
    await store.registry.add_submitter(
        Submitter("42420099", "42420001", date(2025, 1, 1), date(2025, 12, 31))
    )
    days = (date(2024, 12, 31), date(2025, 1, 1), date(2025, 12, 31), date(2026, 1, 1))
    allowed = [await store.registry.may_submit_for("42420099", "42420001", d) for d in days]
    assert allowed == [False, True, True, False]


async def test_submitting_is_one_way(store: Store) -> None:
    """Submitting for a party does not let the party submit for the submitter."""
    for p in (aanbieder("42420001"), aanbieder("42420099")):
        await store.registry.add_participant(p)
    await store.registry.add_submitter(Submitter("42420099", "42420001", date(2020, 1, 1)))
    assert False is await store.registry.may_submit_for("42420001", "42420099", DAY)


async def test_adding_a_submitter_again_changes_its_range(store: Store) -> None:
    """Registering the same relation again replaces its active range."""
    for p in (aanbieder("42420001"), aanbieder("42420099")):
        await store.registry.add_participant(p)
    await store.registry.add_submitter(Submitter("42420099", "42420001", date(2020, 1, 1)))
    await store.registry.add_submitter(
        Submitter("42420099", "42420001", date(2020, 1, 1), date(2024, 12, 31))
    )
    expected = [Submitter("42420099", "42420001", date(2020, 1, 1), date(2024, 12, 31))]
    assert expected == await store.registry.submitters()


async def test_removed_submitter_may_no_longer_submit(store: Store) -> None:
    """After removal the relation is gone; removing it again reports False."""
    for p in (aanbieder("42420001"), aanbieder("42420099")):
        await store.registry.add_participant(p)
    await store.registry.add_submitter(Submitter("42420099", "42420001", date(2020, 1, 1)))
    removed = await store.registry.remove_submitter("42420099", "42420001")
    again = await store.registry.remove_submitter("42420099", "42420001")
    allowed = await store.registry.may_submit_for("42420099", "42420001", DAY)
    assert (removed, again, allowed) == (True, False, False)


async def test_submitter_for_unknown_party_is_refused(store: Store) -> None:
    """Both sides of a submitter relation must be registered."""
    await store.registry.add_participant(aanbieder("42420099"))
    with pytest.raises(UnknownParticipant):
        await store.registry.add_submitter(Submitter("42420099", "42420001", DAY))


async def test_party_cannot_submit_for_itself(store: Store) -> None:
    """A relation from a party to itself is refused."""
    await store.registry.add_participant(aanbieder("42420001"))
    with pytest.raises(InvalidParticipant):
        await store.registry.add_submitter(Submitter("42420001", "42420001", DAY))


async def test_issued_credential_authenticates_its_owner(store: Store) -> None:
    """The token handed out at issue time identifies the participant."""
    await store.registry.add_participant(gemeente("0384"))
    issued = await store.registry.issue_credential("0384")
    assert await store.registry.authenticate(issued.token) == "0384"


async def test_revoked_credential_no_longer_authenticates(store: Store) -> None:
    """After revocation the token is refused; revoking twice reports False."""
    await store.registry.add_participant(gemeente("0384"))
    issued = await store.registry.issue_credential("0384")
    first = await store.registry.revoke_credential(issued.key_id)
    second = await store.registry.revoke_credential(issued.key_id)
    assert (first, second, await store.registry.authenticate(issued.token)) == (True, False, None)


async def test_revoking_one_credential_keeps_the_others(store: Store) -> None:
    """A participant's other credentials stay valid when one is revoked."""
    await store.registry.add_participant(gemeente("0384"))
    old = await store.registry.issue_credential("0384")
    new = await store.registry.issue_credential("0384")
    await store.registry.revoke_credential(old.key_id)
    assert await store.registry.authenticate(new.token) == "0384"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t.split(".")[0],
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: "0123456789abcdef." + t.split(".")[1],
        lambda t: t + "x" * 200,
    ],
    ids=["wrong-secret", "key-only", "empty", "garbage", "other-key", "overlong"],
)
async def test_wrong_credentials_do_not_authenticate(store: Store, mangle: object) -> None:
    """A token with a wrong secret, an unknown key id or the wrong shape gives None."""
    await store.registry.add_participant(gemeente("0384"))
    issued = await store.registry.issue_credential("0384")
    assert None is await store.registry.authenticate(mangle(issued.token))  # type: ignore[operator]


async def test_credential_list_shows_key_ids_never_tokens(store: Store) -> None:
    """Listing credentials shows key id, owner, label and revocation, and no secret."""
    await store.registry.add_participant(gemeente("0384"))
    issued = await store.registry.issue_credential("0384", label="portal")
    await store.registry.revoke_credential(issued.key_id)
    (info,) = await store.registry.credentials("0384")
    secret = issued.token.split(".")[1]
    assert (issued.key_id, "0384", True, "portal", False) == (
        info.key_id,
        info.participant,
        info.revoked,
        info.label,
        secret in repr(info),
    )


async def test_credential_for_unknown_participant_is_refused(store: Store) -> None:
    """Credentials are issued to registered participants only."""
    with pytest.raises(UnknownParticipant):
        await store.registry.issue_credential("0384")


async def test_issued_credential_repr_hides_the_token(store: Store) -> None:
    """The token never appears in the repr of what issue returns."""
    await store.registry.add_participant(gemeente("0384"))
    issued = await store.registry.issue_credential("0384")
    assert issued.token not in repr(issued)


async def test_retired_participant_keeps_authenticating(store: Store) -> None:
    """Authentication says who calls; whether a retired party may act is the core's decision."""
    await store.registry.add_participant(gemeente("0384"))
    issued = await store.registry.issue_credential("0384")
    await store.registry.retire("0384", date(2020, 1, 1))
    assert await store.registry.authenticate(issued.token) == "0384"


async def test_participant_values_are_plain(store: Store) -> None:
    """What the store returns compares equal to what was stored, with dates as dates."""
    p = replace(aanbieder("65656055"), active_from=date(2018, 4, 1))
    await store.registry.add_participant(p)
    (listed,) = await store.registry.participants()
    assert (p, date) == (listed, type(listed.active_from))
