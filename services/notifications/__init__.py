"""Notifications: telling the right person, without putting personal data where it does not belong."""
