"""The RabbitMQ management HTTP API: vhosts, users, permissions, policies, shovels and queue depths."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from adapters.rabbitmq.settings import BrokerSettings
from gateway.errors import Unavailable


def _q(part: str) -> str:
    return quote(part, safe="")


class ManagementError(RuntimeError):
    """The management API refused a request (the text names the method, path and status, no bodies)."""


class ManagementApi(contextlib.AbstractAsyncContextManager["ManagementApi"]):
    """A thin async client. Broker unreachable -> :class:`Unavailable`; refused request -> ManagementError."""

    def __init__(self, settings: BrokerSettings, *, timeout: float = 30.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=settings.management_base + "/api",
            auth=settings.management_credentials,
            timeout=timeout,
            headers={"content-type": "application/json"},
        )

    def __repr__(self) -> str:
        return f"ManagementApi(base_url={str(self._client.base_url)!r})"

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Any:
        try:
            response = await self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable("broker management API not reachable") from exc
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise ManagementError(f"{method} {path}: HTTP {response.status_code}")
        if not response.content:
            return {}
        return response.json()

    # --- vhosts, users, permissions, policies ------------------------------------------------------------

    async def put_vhost(self, vhost: str) -> None:
        await self._call("PUT", f"/vhosts/{_q(vhost)}", {})

    async def delete_vhost(self, vhost: str) -> None:
        await self.delete_vhosts([vhost])

    async def delete_vhosts(self, vhosts: Iterable[str]) -> None:
        """Delete vhosts, their shovels first: a shovel left pointing at a deleted vhost keeps restarting and
        stalls every later vhost change on the broker (seen: vhost creation over 60 s for half an hour)."""
        names = list(vhosts)
        for vhost in names:
            for item in await self._call("GET", f"/parameters/shovel/{_q(vhost)}", missing_ok=True) or []:
                await self._call(
                    "DELETE", f"/parameters/shovel/{_q(vhost)}/{_q(item['name'])}", missing_ok=True
                )
        for vhost in names:
            await self._call("DELETE", f"/vhosts/{_q(vhost)}", missing_ok=True)

    async def set_tracing(self, vhost: str, on: bool) -> None:
        """The firehose of ``vhost`` on or off (``rabbitmqctl trace_on|trace_off -p VHOST``)."""
        await self._call("PUT", f"/vhosts/{_q(vhost)}", {"tracing": on})

    async def vhosts(self) -> list[str]:
        return [item["name"] for item in await self._call("GET", "/vhosts")]

    async def user_tags(self, user: str) -> frozenset[str] | None:
        """The user's tags, or None when there is no such user."""
        found = await self._call("GET", f"/users/{_q(user)}", missing_ok=True)
        if found is None:
            return None
        tags = found.get("tags", [])
        if isinstance(tags, str):  # before RabbitMQ 3.9 the tags are one comma-separated string
            tags = [t for t in tags.split(",") if t]
        return frozenset(tags)

    async def put_user(self, user: str, password: str, tags: str = "") -> None:
        await self._call("PUT", f"/users/{_q(user)}", {"password": password, "tags": tags})

    async def delete_user(self, user: str) -> None:
        await self._call("DELETE", f"/users/{_q(user)}", missing_ok=True)

    async def users(self) -> list[str]:
        return [item["name"] for item in await self._call("GET", "/users")]

    async def put_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        body = {"configure": configure, "write": write, "read": read}
        await self._call("PUT", f"/permissions/{_q(vhost)}/{_q(user)}", body)

    async def put_policy(
        self, vhost: str, name: str, pattern: str, definition: Mapping[str, Any], **extra: Any
    ) -> None:
        body = {"pattern": pattern, "definition": dict(definition), "apply-to": "queues", **extra}
        await self._call("PUT", f"/policies/{_q(vhost)}/{_q(name)}", body)

    # --- shovels ----------------------------------------------------------------------------------------

    async def put_shovel(self, vhost: str, name: str, value: Mapping[str, Any]) -> None:
        await self._call("PUT", f"/parameters/shovel/{_q(vhost)}/{_q(name)}", {"value": dict(value)})

    async def shovel(self, vhost: str, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self._call(
            "GET", f"/parameters/shovel/{_q(vhost)}/{_q(name)}", missing_ok=True
        )
        return found

    async def shovel_states(self, vhost: str) -> dict[str, str]:
        """Shovel name -> state (``running``, ``starting``, ``terminated`` ...) in this vhost."""
        items = await self._call("GET", f"/shovels/{_q(vhost)}", missing_ok=True) or []
        return {item["name"]: item.get("state", "unknown") for item in items}

    # --- queues -----------------------------------------------------------------------------------------

    async def queue(self, vhost: str, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self._call(
            "GET", f"/queues/{_q(vhost)}/{_q(name)}", missing_ok=True
        )
        return found

    async def queue_depth(self, vhost: str, name: str) -> int | None:
        """Ready plus unacknowledged messages (the management statistics, refreshed every few seconds)."""
        info = await self.queue(vhost, name)
        if info is None:
            return None
        return int(info.get("messages", 0) or 0)
