"""kenett kernel: what every service uses, and nothing service-specific."""

__version__ = "0.1.0"
