"""``/v1/admin``: the participant registry for operators (operator credential required)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Final, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from pydantic.alias_generators import to_camel

from adapters.db.admin import (
    DuplicateParticipant,
    InvalidParticipant,
    RegistryAdmin,
    RegistryError,
    Submitter,
    UnknownParticipant,
)
from adapters.rabbitmq.declare import ForeignUser
from gateway.errors import GatewayError
from gateway.http.contract import OPERATOR, answers, json_answer, strings
from gateway.http.dashboard import BODY_LIMIT, BodyTooLarge
from gateway.http.deps import Operator, Services, bounded_body
from gateway.ports import Participant
from gateway.security.auditsink import audit_operator

router = APIRouter(prefix="/v1/admin", tags=["admin"])


class AdminRefused(GatewayError):
    code, vecozo_code, status, reason = "GW400", "GW400", 400, "admin-refused"
    title = "Registry change refused"


class AdminNotFound(AdminRefused):
    status, reason = 404, "admin-not-found"
    title = "No such participant"


class AdminConflict(AdminRefused):
    status, reason = 409, "admin-conflict"
    title = "Participant already registered"


def _refused(exc: RegistryError) -> AdminRefused:
    if isinstance(exc, UnknownParticipant):
        return AdminNotFound(str(exc))
    if isinstance(exc, DuplicateParticipant):
        return AdminConflict(str(exc))
    assert isinstance(exc, InvalidParticipant | RegistryError)
    return AdminRefused(str(exc))


class ParticipantIn(BaseModel):
    code: str = Field(pattern=r"^([0-9]{4}|[0-9]{8})$", description="CBS gemeentecode or AGB-code")
    kind: Literal["gemeente", "aanbieder"]
    name: str = Field(min_length=1, max_length=200)
    home_node: Literal["ggk", "vecozo"] | None = Field(None, description="default: ggk for a gemeente")
    active_from: date | None = None
    active_until: date | None = None
    delivery_format: Literal["xml", "stuf"] = "xml"


class RetireIn(BaseModel):
    last_day: date | None = Field(None, description="last day of the registration; default yesterday")


class SubmitterIn(BaseModel):
    submitter: str
    party: str
    active_from: date | None = None
    active_until: date | None = None


Model = TypeVar("Model", bound=BaseModel)


def _reader(model: type[Model]) -> Callable[[Request, None], Awaitable[Model]]:
    """The JSON body of an operation as ``model``, read only once the operator credential holds and streamed
    with the dashboard's cap (413 above it). A body declared to FastAPI is read whole before any dependency,
    so an unauthenticated client made the node take and parse up to GATEWAY_MAX_BYTES for its 401."""

    async def read(request: Request, _: Operator) -> Model:
        raw = await bounded_body(request, BODY_LIMIT, BodyTooLarge)
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            raise RequestValidationError(errors) from None

    return read


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    """The request body of ``model`` for the OpenAPI document (FastAPI no longer sees it)."""
    return {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}


ParticipantBody = Annotated[ParticipantIn, Depends(_reader(ParticipantIn))]
RetireBody = Annotated[RetireIn, Depends(_reader(RetireIn))]
SubmitterBody = Annotated[SubmitterIn, Depends(_reader(SubmitterIn))]


# the participant on the wire: each attribute (camelCase there) with its JSON schema and an example value;
# a field whose type admits null is the one that may be left out
_WIRE: Final = (
    ("code", {"type": "string"}, "0384"),
    ("kind", {"type": "string", "enum": ["gemeente", "aanbieder"]}, "gemeente"),
    ("name", {"type": "string"}, "Diemen"),
    ("home_node", {"type": "string", "enum": ["ggk", "vecozo"]}, "ggk"),
    ("active_from", {"type": "string", "format": "date"}, "2026-01-01"),
    ("active_until", {"type": ["string", "null"], "format": "date"}, None),
    ("delivery_format", {"type": "string", "enum": ["xml", "stuf"]}, "xml"),
)
_PARTICIPANT = {
    "type": "object",
    "required": [to_camel(name) for name, schema, _ in _WIRE if "null" not in schema["type"]],
    "properties": {to_camel(name): schema for name, schema, _ in _WIRE},
}
_PARTICIPANT_EXAMPLE = {to_camel(name): example for name, _, example in _WIRE}


def _one(status: int, text: str) -> dict[int, dict[str, Any]]:
    return {status: json_answer(text, _PARTICIPANT, _PARTICIPANT_EXAMPLE)}


def _out(p: Participant) -> dict[str, Any]:
    values = ((to_camel(name), getattr(p, name)) for name, _, _ in _WIRE)
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in values}


def _admin(svc: Any) -> RegistryAdmin:
    admin: RegistryAdmin = svc.admin
    return admin


@router.get(
    "/participants",
    summary="All registered participants",
    **answers(
        401,
        security=OPERATOR,
        ok={
            200: json_answer("The registry", {"type": "array", "items": _PARTICIPANT}, [_PARTICIPANT_EXAMPLE])
        },
    ),
)
async def list_participants(svc: Services, _: Operator) -> list[dict[str, Any]]:
    return [_out(p) for p in await _admin(svc).participants()]


@router.post(
    "/participants",
    status_code=201,
    summary="Register a participant and provision its mailbox",
    **answers(
        400, 401, 409, 413, security=OPERATOR, ok=_one(201, "Registered"), body=_documented(ParticipantIn)
    ),
)
async def add_participant(body: ParticipantBody, svc: Services, _: Operator) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    home = body.home_node or ("ggk" if body.kind == "gemeente" else "vecozo")
    participant = Participant(
        code=body.code,
        kind=body.kind,
        name=body.name,
        home_node=home,
        active_from=body.active_from or today,
        active_until=body.active_until,
        delivery_format=body.delivery_format,
    )
    try:
        await _admin(svc).add_participant(participant)
    except RegistryError as exc:
        raise _refused(exc) from None
    if svc.broker is not None:
        await svc.broker.ensure_mailboxes(home, [body.code])
    await audit_operator(svc, "participant-added", party=body.code, reason=body.kind)
    return _out(participant)


@router.post(
    "/participants/{code}/retire",
    summary="End a registration: the party receives nothing new",
    **answers(400, 401, 404, 413, security=OPERATOR, ok=_one(200, "Retired"), body=_documented(RetireIn)),
)
async def retire(code: str, body: RetireBody, svc: Services, _: Operator) -> dict[str, Any]:
    last_day = body.last_day or (datetime.now(UTC).date() - timedelta(days=1))
    try:
        retired = await _admin(svc).retire(code, last_day)
    except RegistryError as exc:
        raise _refused(exc) from None
    await audit_operator(svc, "participant-retired", party=code, reason=f"last-day {last_day.isoformat()}")
    return _out(retired)


_ISSUED = strings("keyId", "participant", "token")


@router.post(
    "/participants/{code}/credentials",
    status_code=201,
    summary="Issue an API credential (shown once)",
    **answers(
        400,
        401,
        404,
        security=OPERATOR,
        ok={
            201: json_answer(
                "Issued", _ISSUED, {"keyId": "k1a2b3", "participant": "0384", "token": "k1a2b3.s3cr3t"}
            )
        },
    ),
)
async def issue_credential(code: str, svc: Services, _: Operator) -> dict[str, Any]:
    try:
        issued = await _admin(svc).issue_credential(code, label="admin-api")
    except RegistryError as exc:
        raise _refused(exc) from None
    await audit_operator(svc, "credential-issued", party=code, reason=f"key {issued.key_id}")
    return {"keyId": issued.key_id, "participant": issued.participant, "token": issued.token}


@router.delete(
    "/credentials/{key_id}",
    status_code=204,
    summary="Revoke an API credential",
    **answers(401, 404, security=OPERATOR, ok={204: {"description": "Revoked"}}),
)
async def revoke_credential(
    svc: Services, _: Operator, key_id: str = Path(description="the credential's key id", examples=["k1a2b3"])
) -> None:
    if not await _admin(svc).revoke_credential(key_id):
        raise AdminNotFound(f"no credential {key_id}")
    await audit_operator(svc, "credential-revoked", reason=f"key {key_id}")


_RELATION = strings("submitter", "party")


@router.post(
    "/submitters",
    status_code=201,
    summary="Let a party submit on behalf of another",
    **answers(
        400,
        401,
        404,
        409,
        413,
        security=OPERATOR,
        ok={201: json_answer("Registered", _RELATION, {"submitter": "42420099", "party": "42420001"})},
        body=_documented(SubmitterIn),
    ),
)
async def add_submitter(body: SubmitterBody, svc: Services, _: Operator) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    relation = Submitter(body.submitter, body.party, body.active_from or today, body.active_until)
    try:
        await _admin(svc).add_submitter(relation)
    except RegistryError as exc:
        raise _refused(exc) from None
    await audit_operator(
        svc, "submitter-added", party=relation.party, reason=f"submitter {relation.submitter}"
    )
    return {"submitter": relation.submitter, "party": relation.party}


@router.post(
    "/participants/{code}/broker-credential",
    status_code=201,
    summary="(Re)issue the participant's own broker user: it may read its mailbox queue and nothing else",
    **answers(
        401,
        404,
        503,
        security=OPERATOR,
        ok={
            201: json_answer(
                "The broker user, shown once",
                {
                    "type": "object",
                    "required": ["user", "password", "vhost", "queue"],
                    "properties": {
                        k: {"type": ["string", "null"]} for k in ("user", "password", "vhost", "queue")
                    },
                },
                {"user": "p-0384", "password": "…", "vhost": "ggk", "queue": "mailbox.0384"},
            )
        },
    ),
)
async def broker_credential(code: str, svc: Services, _: Operator) -> dict[str, Any]:
    participant = await _admin(svc).participant(code)
    if participant is None:
        raise AdminNotFound(f"participant {code} is not registered")
    broker = svc.broker
    if broker is None:
        raise AdminRefused("this node runs without a broker to issue credentials on")
    try:
        password = await broker.provision_mailbox(participant.home_node, code, rotate=True)
    except ForeignUser as exc:
        raise AdminConflict(str(exc)) from None
    await audit_operator(svc, "broker-credential-issued", party=code)
    vhost = broker.vhost(participant.home_node)
    user = broker.settings.participant_user(code)
    return {"user": user, "password": password, "vhost": vhost, "queue": f"mailbox.{code}"}
