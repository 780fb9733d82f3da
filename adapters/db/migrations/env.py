"""Alembic's environment: always handed an open connection by :mod:`adapters.db.migrate`."""

from __future__ import annotations

from alembic import context

from adapters.db.migrate import models

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the gateway always hands one over
    raise RuntimeError(
        "run migrations with `gateway db upgrade` (adapters.db.migrate), not the alembic command"
    )
context.configure(connection=connection, target_metadata=list(models()), render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
