"""Alembic environment: always run online, on the connection the caller hands in."""

from alembic import context

from shared.db.migrate import render_item

config = context.config
connection = config.attributes["connection"]
target_metadata = config.attributes.get("target_metadata")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
