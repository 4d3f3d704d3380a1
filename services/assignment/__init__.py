"""Assignment: the coordinator registry and appointments (R9-R11)."""
