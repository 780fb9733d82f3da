"""Declare the node topology on a live broker, idempotently: vhosts and permissions over the management
API, exchanges, queues and bindings over AMQP, then the two link shovels.

Order matters: a shovel declares a missing source or destination queue itself (as a classic queue), so the
quorum link queues of both vhosts must exist before the shovels are put.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping

import aiormq
import structlog
from aio_pika import ExchangeType as AmqpExchangeType
from aio_pika.abc import AbstractChannel

from adapters.rabbitmq.management import ManagementApi
from adapters.rabbitmq.session import Sessions
from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import NodeTopology, mailbox_spec, node_topology, shovels
from gateway.errors import NodeRole, Unavailable
from gateway.ports import NODES

log = structlog.get_logger("adapters.rabbitmq")


# the tag on every participant user the gateway makes: a user without it was made by someone else
PARTICIPANT_TAG = "gateway-participant"


class TopologyConflict(RuntimeError):
    """A queue or exchange exists with other arguments than the gateway declares (e.g. delivery limit)."""


class ForeignUser(RuntimeError):
    """A broker user of the participant's name exists but was not made by the gateway: left untouched."""


async def declare_topology(
    settings: BrokerSettings,
    api: ManagementApi,
    sessions: Sessions,
    mailboxes: Mapping[NodeRole, Iterable[str]] | None = None,
) -> None:
    """Both node vhosts with their exchanges and queues, the given mailboxes, then the link shovels."""
    mailboxes = mailboxes or {}
    for node in NODES:
        await declare_node(api, sessions, node_topology(settings, node, mailboxes.get(node, ())), settings)
    for shovel in shovels(settings):
        await api.put_shovel(shovel.vhost, shovel.name, shovel.value)
    log.info("topology.declared", vhosts=[settings.vhost(n) for n in NODES])


async def declare_node(
    api: ManagementApi, sessions: Sessions, topo: NodeTopology, settings: BrokerSettings
) -> None:
    await api.put_vhost(topo.vhost)
    user, _ = settings.credentials
    await api.put_permissions(topo.vhost, user, ".*", ".*", ".*")
    for policy in topo.policies:
        await api.put_policy(
            topo.vhost, policy.name, policy.pattern, policy.definition, priority=policy.priority
        )
    conflict = f"{topo.vhost}: an object exists with other arguments"
    async with _declaring(sessions, topo.node, conflict, "topology could not be declared") as channel:
        for exchange in topo.exchanges:
            await channel.declare_exchange(exchange.name, AmqpExchangeType(exchange.type), durable=True)
        for queue in topo.queues:
            await channel.declare_queue(queue.name, durable=True, arguments=queue.declare_arguments)
        for binding in topo.bindings:
            bound = await channel.get_queue(binding.queue, ensure=False)
            await bound.bind(binding.exchange, routing_key=binding.routing_key)


async def declare_mailboxes(
    settings: BrokerSettings, sessions: Sessions, node: NodeRole, codes: Iterable[str]
) -> None:
    """The mailbox queues (and bindings) of ``codes`` on ``node``; existing ones are left as they are."""
    conflict = f"{settings.vhost(node)}: a mailbox exists with other arguments"
    async with _declaring(sessions, node, conflict, "mailbox could not be declared") as channel:
        for code in codes:
            queue, binding = mailbox_spec(settings, code)
            declared = await channel.declare_queue(
                queue.name, durable=True, arguments=queue.declare_arguments
            )
            await declared.bind(binding.exchange, routing_key=binding.routing_key)


async def provision_mailbox(
    settings: BrokerSettings,
    api: ManagementApi,
    sessions: Sessions,
    node: NodeRole,
    code: str,
    *,
    rotate: bool = False,
) -> str | None:
    """Declare ``code``'s mailbox on ``node`` and its own broker user, who may only read it.

    The user (:meth:`BrokerSettings.participant_user`) gets rights on this node's vhost only: configure and
    write nothing, read exactly ``mailbox.{code}``. Returns the user's generated password when the user is
    new (or ``rotate`` is set): the only time it is shown. Returns None when the user already existed and
    keeps its password. A user of that name that the gateway did not make (no :data:`PARTICIPANT_TAG`) is
    never changed: :class:`ForeignUser`.
    """
    await declare_mailboxes(settings, sessions, node, [code])
    user = settings.participant_user(code)
    tags = await api.user_tags(user)
    if tags is not None and PARTICIPANT_TAG not in tags:
        raise ForeignUser(f"broker user {user} exists and was not made by this gateway; left untouched")
    password: str | None = None
    if rotate or tags is None:
        password = secrets.token_urlsafe(24)
        await api.put_user(user, password, PARTICIPANT_TAG)
    queue, _ = mailbox_spec(settings, code)
    await api.put_permissions(
        settings.vhost(node), user, "^$", "^$", "^" + queue.name.replace(".", r"\.") + "$"
    )
    log.info("mailbox.provisioned", node=node, code=code, new_credentials=password is not None)
    return password


@contextlib.asynccontextmanager
async def _declaring(
    sessions: Sessions, node: NodeRole, conflict: str, failed: str
) -> AsyncIterator[AbstractChannel]:
    """A channel of ``node`` to declare on: a clash with what exists is a :class:`TopologyConflict` saying
    ``conflict``, a broker fault :class:`Unavailable` saying ``failed``; the channel is closed after."""
    channel = await sessions[node].channel()
    try:
        yield channel
    except aiormq.exceptions.ChannelPreconditionFailed as exc:
        raise TopologyConflict(conflict) from exc
    except (TimeoutError, aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as exc:
        raise Unavailable(failed) from exc
    finally:
        if not channel.is_closed:
            await channel.close()
