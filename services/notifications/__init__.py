"""Notifications: tell the right person, never with personal data where it does not belong."""
