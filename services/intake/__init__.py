"""Intake: reports of need (R2) and the cases they open."""
