"""Consent: the single authority on who has consented to what (R5-R8)."""
