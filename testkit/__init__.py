"""Helpers shared by `tests/` and `bench/` (neither imports the other), kept out of the installed package:
sample documents of every format written with their own libraries (`samples`), in-memory fakes of the
`Embedder` and `Store` protocols (`fakes`), an index's invariants (`invariants`), the product run in its own
processes with free ports and Debian's chromium (`servers`), and the load scenario (`load`)."""
