"""Keep message bodies out of library logs, whatever logging level an operator configures.

The AMQP client (aiormq) logs whole frames at DEBUG, message bodies included: with a root logger at DEBUG
every payload would reach the logs. :func:`guard_library_logs` keeps those loggers at INFO or above.
"""

from __future__ import annotations

import logging

# loggers that write message content at DEBUG
PAYLOAD_LOGGERS = ("aiormq", "aio_pika")


def guard_library_logs(minimum: int = logging.INFO) -> None:
    """Raise the payload-writing library loggers to at least ``minimum`` (never lower them)."""
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < minimum:  # NOTSET (0) included: the logger would follow a DEBUG root
            logger.setLevel(minimum)
