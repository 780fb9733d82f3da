"""Making a dead letter on the real broker: a recipient's software rejects a message for good."""

from __future__ import annotations

import asyncio

from gateway.errors import NodeRole
from tests.harness import GatewayUnderTest


async def dead_letter(gw: GatewayUnderTest, node: NodeRole, party: str, within: float = 20.0) -> str:
    """Take the next message from ``party``'s mailbox and reject it without requeue; its tracking id."""
    channel = await gw.runtime.broker.sessions[node].channel()  # type: ignore[attr-defined]
    try:
        queue = await channel.get_queue(f"mailbox.{party}", ensure=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            message = await queue.get(no_ack=False, fail=False, timeout=5)
            if message is not None:
                await message.reject(requeue=False)
                return str(message.message_id)
            await asyncio.sleep(0.1)
    finally:
        await channel.close()
    raise AssertionError(f"nothing arrived in the mailbox of {party}")


async def wait_dead(gw: GatewayUnderTest, node: NodeRole, tracking_id: str, within: float = 20.0) -> None:
    """Wait until the dead letter is in ``node``'s DLQ (dead-lettering is asynchronous)."""
    ops = gw.runtime.ops
    assert ops is not None and ops.dead_letters is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if tracking_id in {d.tracking_id for d in await ops.dead_letters.list(node)}:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{tracking_id} did not reach the DLQ of {node}")
