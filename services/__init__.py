"""kenett's core services; each registers itself through the `kenett.services` entry points."""
