"""RabbitMQ side of the two gateway nodes: topology, confirmed publisher, node link, mailboxes.

Start with :class:`RabbitBroker` (or :class:`adapters.rabbitmq.testing.FakeBroker` in tests that are not
about the broker); both satisfy :class:`Broker`.
"""

from adapters.rabbitmq.broker import Broker, RabbitBroker
from adapters.rabbitmq.declare import ForeignUser, TopologyConflict
from adapters.rabbitmq.link import LinkCallback, LinkConsumer, accept_all
from adapters.rabbitmq.mailbox import MailboxMissing, RabbitMailboxReader
from adapters.rabbitmq.management import ManagementApi, ManagementError
from adapters.rabbitmq.properties import BrokenLinkMessage, LinkMessage, MessageProperties
from adapters.rabbitmq.publisher import RabbitPublisher
from adapters.rabbitmq.settings import BrokerSettings

__all__ = [
    "BrokenLinkMessage",
    "Broker",
    "BrokerSettings",
    "ForeignUser",
    "LinkCallback",
    "LinkConsumer",
    "LinkMessage",
    "MailboxMissing",
    "ManagementApi",
    "ManagementError",
    "MessageProperties",
    "RabbitBroker",
    "RabbitMailboxReader",
    "RabbitPublisher",
    "TopologyConflict",
    "accept_all",
]
