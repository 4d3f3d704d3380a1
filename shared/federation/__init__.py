"""Linked instances: the hub/leaf topology, the signed and sealed cross-organisation message,
and the streams that carry it (architecture.md, "Federation").

An organisation's kenett talks to another only through its own NATS server, which joins the
hub as a leaf node bound to the organisation's hub account and runs its own JetStream domain.
A message to another organisation is written to the sender's outbound stream; the receiver's
inbound stream *sources* it across domains, filtered to what is addressed to the receiver, so it
queues while the link or the hub is down and arrives, de-duplicated and in order, afterwards.
"""
