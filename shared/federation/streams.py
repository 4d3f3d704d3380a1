"""The two federation streams of one organisation, declared here and only here."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import NotFoundError

from shared.federation.topology import (
    OrgFederation,
    deliver_prefix,
    in_stream,
    out_stream,
    xorg_subject,
)

DAY = 24 * 3600.0
KEEP_S = 90 * DAY
"""How long cross-organisation messages stay in the streams: long enough to ride out any
outage of a partner; delivery state itself is kept in the federation service's database."""
DUPLICATE_WINDOW_S = DAY


def federation_stream_configs(fed: OrgFederation) -> list[StreamConfig]:
    """The outbound stream (what this organisation sends, one subject per receiver) and the
    inbound stream (sourced from each partner's outbound stream, filtered to this organisation,
    through the partner's JetStream domain)."""
    me = fed.org
    outbound = StreamConfig(
        name=out_stream(me),
        description=f"Messages from {me} to other organisations; partners source them.",
        subjects=[f"kenett-xorg.*.{me}"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=KEEP_S,
        duplicate_window=DUPLICATE_WINDOW_S,
    )
    inbound = StreamConfig(
        name=in_stream(me),
        description=f"Messages to {me}, sourced from each partner's domain.",
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=KEEP_S,
        duplicate_window=DUPLICATE_WINDOW_S,
        sources=[
            StreamSource(
                name=out_stream(partner),
                filter_subject=xorg_subject(me, partner),
                external=ExternalStream(
                    api=f"$JS.{partner}.API", deliver=deliver_prefix(me, partner)
                ),
            )
            for partner in fed.partners()
        ],
    )
    return [outbound, inbound]


async def ensure_federation_streams(
    js: JetStreamContext, fed: OrgFederation, *, outbound_only: bool = False
) -> list[str]:
    """Create the streams, or bring them to the declared config (e.g. a partner added).

    A source whose partner stream is not there yet (or not reachable) is retried by the server
    with a growing backoff (10 s, 20 s, ... up to 2 min), so a local federation creates every
    outbound stream first (``outbound_only``) and the inbound ones after."""
    names = []
    configs = federation_stream_configs(fed)
    for config in configs[:1] if outbound_only else configs:
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
        names.append(config.name or "")
    return names
