"""`python -m ui`: the web chat, exactly like `qa serve` (same flags, settings from QA_* variables)."""
from index.memory import limit_arenas
from ui.cli.main import our_process, serve_cmd

our_process()
limit_arenas()
serve_cmd(prog_name="python -m ui")
