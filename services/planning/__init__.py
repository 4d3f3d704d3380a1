"""Planning: the individual plan (R13-R16)."""
