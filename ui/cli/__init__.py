"""The `qa` command: index, ask, chat, docs, eval, serve (and asking a running server)."""
