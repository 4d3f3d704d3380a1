"""Messaging: streams, consumers with explicit acks, the outbox relay, dead letters."""
