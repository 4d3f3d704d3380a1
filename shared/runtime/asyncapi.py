"""AsyncAPI 3.0 documents of each service, generated from the contracts in shared/contracts.

The handlers take raw messages (so the kernel can dead-letter bad input with a reason), which
leaves FastStream's own generator without payload schemas; these documents are built from the
same pydantic models the services validate with, so they are the reference for subjects and
payloads.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel

from shared.bus.access_log import serve_access_log
from shared.config import Settings
from shared.contracts.envelope import Envelope, known_contracts
from shared.contracts.replies import Reply
from shared.plugins import ServicePlugin
from shared.service import ServiceContext

ORG = "{org}"


def _catalog(plugin: ServicePlugin) -> list[tuple[str, str, type[BaseModel]]]:
    """Build the plugin's router against a context with no connections, to list what it wires."""
    settings = Settings(org="orgtoken")
    ctx = ServiceContext(
        plugin.name,
        settings,
        cast(Any, None),
        cast(Any, None),
        cast(Any, None),
        cast(Any, None),
        cast(Any, None),
    )
    serve_access_log(plugin.build_router(ctx), ctx)
    return [(k, s.replace("orgtoken", ORG), m) for k, s, m in ctx.catalog]


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")


def _envelope_schema(event: type[BaseModel]) -> dict[str, Any]:
    schema = _schema(Envelope)
    schema["properties"]["payload"] = _schema(event)
    return schema


def service_document(plugin: ServicePlugin, version: str) -> dict[str, Any]:
    """One service's AsyncAPI 3.0 document."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    org_param = {"org": {"description": "The organisation (a subject token)."}}

    def channel(cid: str, address: str, message: str, payload: dict[str, Any], doc: str) -> None:
        channels[cid] = {
            "address": address.replace("{org}", "{org}"),
            "parameters": org_param,
            "messages": {
                message: {
                    "name": message,
                    "summary": doc,
                    "payload": payload,
                    "contentType": "application/json",
                }
            },
        }

    published = [
        m for (t, _v), m in sorted(known_contracts().items()) if t.startswith(f"{plugin.name}.")
    ]
    for event in published:
        cid = event.TYPE.replace(".", "_")
        channel(
            cid,
            event.subject("orgtoken").replace("orgtoken", ORG),
            event.__name__,
            _envelope_schema(event),
            (event.__doc__ or "").strip(),
        )
        operations[f"publish_{cid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": "Published through the transactional outbox, Nats-Msg-Id = envelope id.",
        }
    for kind, subject, model in _catalog(plugin):
        name = subject.rsplit(".", 1)[-1]
        if kind == "consume":
            cid = model.TYPE.replace(".", "_")  # type: ignore[attr-defined]
            if cid not in channels:
                channel(
                    cid,
                    subject,
                    model.__name__,
                    _envelope_schema(model),
                    (model.__doc__ or "").strip(),
                )
            operations[f"consume_{cid}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": "Durable JetStream pull consumer; ack after commit; dead letters "
                "on contract errors and after max_deliver failures.",
            }
        else:
            cid = f"{kind}_{name}"
            channel(cid, subject, model.__name__, _schema(model), (model.__doc__ or "").strip())
            reply_id = f"{cid}_reply"
            channels[reply_id] = {
                "address": None,
                "messages": {
                    "Reply": {
                        "name": "Reply",
                        "payload": _schema(Reply),
                        "contentType": "application/json",
                    }
                },
            }
            operations[cid] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": f"Request/reply {kind}, answered by one instance (queue group).",
                "reply": {"channel": {"$ref": f"#/channels/{reply_id}"}},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"kenett {plugin.name}",
            "version": version,
            "description": plugin.description,
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
    }
