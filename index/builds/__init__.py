"""One incremental, crash-safe build, what it will do (plan) and the index's self-check."""
