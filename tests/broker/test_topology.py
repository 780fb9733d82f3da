"""The node topology as data: names and dead-lettering."""

from __future__ import annotations

import pytest

from adapters.rabbitmq.settings import BrokerSettings
from adapters.rabbitmq.topology import link_from, link_to, mailbox_queue, node_topology, shovel_spec


def test_link_queues_pair_up_across_the_shovel() -> None:
    """Each shovel moves one node's link.to queue into the other node's link.from queue."""
    value = shovel_spec(BrokerSettings(), "vecozo").value
    assert (link_to("vecozo"), link_from("ggk")) == (value["src-queue"], value["dest-queue"])


def test_every_queue_but_the_dlq_dead_letters_with_a_limit() -> None:
    """Mailboxes carry their delivery limit, link queues get theirs from a policy; the DLQ has neither."""
    topo = node_topology(BrokerSettings(delivery_limit=7, link_delivery_limit=9), "ggk", ["0363"])
    limits = {
        q.name: (q.arguments.get("x-dead-letter-exchange"), q.arguments.get("x-delivery-limit"))
        for q in topo.queues
    }
    expected = {
        "dlq": (None, None),
        "link.to-vecozo": ("dlx", None),
        "link.from-vecozo": ("dlx", None),
        "mailbox.0363": ("dlx", 7),
    }
    policies = [(p.pattern, dict(p.definition)) for p in topo.policies]
    assert (expected, [(r"^link\.", {"delivery-limit": 9})]) == (limits, policies)


def test_shovel_declares_link_queues_as_the_gateway_does() -> None:
    """A shovel that starts first declares the link queues with exactly the gateway's arguments."""
    settings = BrokerSettings()
    value = shovel_spec(settings, "ggk").value
    declared = {q.name: q.declare_arguments for q in node_topology(settings, "ggk").queues}
    other = {q.name: q.declare_arguments for q in node_topology(settings, "vecozo").queues}
    assert (declared["link.to-vecozo"], other["link.from-ggk"]) == (
        value["src-queue-args"],
        value["dest-queue-args"],
    )


@pytest.mark.parametrize("code", ["036", "03630", "abcd", "0363.x", "4242000"])
def test_mailbox_names_only_participant_codes(code: str) -> None:
    """Only a 4-digit or 8-digit code makes a mailbox name."""
    with pytest.raises(ValueError):
        mailbox_queue(code)
