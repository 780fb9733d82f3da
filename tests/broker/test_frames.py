"""The publish path's own frames: the very bytes aiormq writes for ``basic_publish``, and their order."""

from __future__ import annotations

import asyncio
from typing import Any

import aiormq
import pytest
from aiormq.abc import ChannelFrame
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from adapters.rabbitmq.frames import MOST_HELD, Behind, Outbox, publish_frames
from adapters.rabbitmq.properties import MessageProperties
from tests.broker.conftest import delivery


def _aiormq_bytes(channel: int, exchange: str, key: str, props: Any, body: bytes, max_content: int) -> bytes:
    frames: list[Any] = [
        aiormq.spec.Basic.Publish(exchange=exchange, routing_key=key, mandatory=True),
        ContentHeader(properties=props, body_size=len(body)),
    ]
    if body:
        if len(body) < max_content:
            frames.append(ContentBody(body))
        else:
            frames += [ContentBody(body[i : i + max_content]) for i in range(0, len(body), max_content)]
    return ChannelFrame.marshall(channel_number=channel, frames=frames).payload


@pytest.mark.parametrize(
    ("channel", "exchange", "key", "size", "max_content"),
    [
        (1, "mailbox", "0384", 3300, 131064),
        (7, "", "link.from-vecozo", 0, 131064),
        (300, "outbound", "ggk", 131064, 131064),  # exactly the frame's room: split in one frame, as aiormq
        (2, "mailbox", "Zoë €", 300_000, 131064),
        (2, "mailbox", "0384", 10, 4),
    ],
)
def test_publish_frames_are_the_bytes_aiormq_writes(
    channel: int, exchange: str, key: str, size: int, max_content: int
) -> None:
    sent = delivery(key)
    props = MessageProperties.of_delivery(sent).amqp()
    body = bytes(i % 251 for i in range(size))
    ours = publish_frames(channel, exchange, key, True, props.marshal(), body, max_content)
    assert ours == _aiormq_bytes(channel, exchange, key, props, body, max_content)


class _Channel:
    """What :class:`Outbox` uses of an aiormq channel."""

    def __init__(self, number: int, queue: asyncio.Queue[ChannelFrame]) -> None:
        self.number = number
        self.write_queue = queue
        self.is_closed = False
        self.max_content_size = 131064
        self.delivery_tag = 0
        self.confirmations: dict[int, asyncio.Future[Any]] = {}
        self.message_id_delivery_tag: dict[str, int] = {}

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()


def _props(n: int) -> aiormq.spec.Basic.Properties:
    return aiormq.spec.Basic.Properties(message_id=f"m-{n}", delivery_mode=2)


async def test_one_write_per_loop_turn_in_the_order_of_the_delivery_tags() -> None:
    queue: asyncio.Queue[ChannelFrame] = asyncio.Queue(maxsize=10)
    channels = [_Channel(1, queue), _Channel(2, queue)]
    outbox = Outbox(5, TimeoutError)
    publishes = [
        asyncio.create_task(outbox.publish(channels[n % 2], "mailbox", "0384", b"x%d" % n, _props(n)))  # type: ignore[arg-type]
        for n in range(6)
    ]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert queue.qsize() == 1
    expected = b"".join(
        publish_frames(n % 2 + 1, "mailbox", "0384", True, _props(n).marshal(), b"x%d" % n, 131064)
        for n in range(6)
    )
    assert queue.get_nowait().payload == expected
    for channel in channels:
        assert sorted(channel.confirmations) == [1, 2, 3]
        for tag in list(channel.confirmations):
            channel.confirmations.pop(tag).set_result(None)
    await asyncio.gather(*publishes)
    assert all(not c.message_id_delivery_tag for c in channels)


async def test_a_publish_not_confirmed_in_time_raises_what_it_is_told() -> None:
    queue: asyncio.Queue[ChannelFrame] = asyncio.Queue()
    with pytest.raises(ValueError, match="late"):
        await Outbox(0.01, lambda: ValueError("late")).publish(
            _Channel(1, queue), "mailbox", "0384", b"x", _props(1)
        )  # type: ignore[arg-type]


async def _most_held(queue: asyncio.Queue[ChannelFrame]) -> tuple[_Channel, list[asyncio.Task[None]]]:
    """:data:`MOST_HELD` publishes that wait for a writer taking nothing from ``queue``, and one more refused."""
    channel = _Channel(1, queue)
    outbox = Outbox(5, TimeoutError)
    held = [
        asyncio.create_task(outbox.publish(channel, "mailbox", "0384", b"x", _props(n)))  # type: ignore[arg-type]
        for n in range(MOST_HELD)
    ]
    await asyncio.sleep(0.01)
    with pytest.raises(Behind):
        await outbox.publish(channel, "mailbox", "0384", b"x", _props(-1))  # type: ignore[arg-type]
    return channel, held


async def test_held_publishes_are_bounded_when_the_writer_is_behind() -> None:
    queue: asyncio.Queue[ChannelFrame] = asyncio.Queue(maxsize=1)
    queue.put_nowait(ChannelFrame(payload=b"", should_close=False))  # a writer that takes nothing
    channel, held = await _most_held(queue)
    queue.get_nowait()
    await asyncio.sleep(0.01)
    assert queue.qsize() == 1  # all that was held, in one write
    for future in channel.confirmations.values():
        future.set_result(None)
    await asyncio.gather(*held)


async def test_the_writer_gets_the_first_publish_at_once_and_the_rest_until_it_takes_it() -> None:
    queue: asyncio.Queue[ChannelFrame] = asyncio.Queue()
    channel = _Channel(1, queue)
    outbox = Outbox(5, TimeoutError)
    first = asyncio.create_task(outbox.publish(channel, "mailbox", "0384", b"a", _props(1)))  # type: ignore[arg-type]
    await asyncio.sleep(0)  # no turn of its own: in the queue once the publish ran
    assert queue.qsize() == 1
    second = asyncio.create_task(outbox.publish(channel, "mailbox", "0384", b"b", _props(2)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert queue.qsize() == 1  # not yet taken: the second joins the first's send
    taken = queue.get_nowait().payload
    assert taken == b"".join(
        publish_frames(1, "mailbox", "0384", True, _props(n).marshal(), body, 131064)
        for n, body in ((1, b"a"), (2, b"b"))
    )
    third = asyncio.create_task(outbox.publish(channel, "mailbox", "0384", b"c", _props(3)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert queue.get_nowait().payload == publish_frames(
        1, "mailbox", "0384", True, _props(3).marshal(), b"c", 131064
    )
    assert sorted(channel.confirmations) == [1, 2, 3]
    for future in channel.confirmations.values():
        future.set_result(None)
    await asyncio.gather(first, second, third)


async def test_publishes_for_a_writer_that_stopped_taking_them_are_bounded() -> None:
    queue: asyncio.Queue[ChannelFrame] = asyncio.Queue()  # never read: a writer that died
    channel, waiting = await _most_held(queue)
    assert queue.qsize() == 1
    for future in channel.confirmations.values():
        future.set_result(None)
    await asyncio.gather(*waiting)
