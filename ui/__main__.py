"""`python -m ui`: the web chat, exactly like `qa serve` (same flags, settings from QA_* variables)."""
from ui.cli import serve_cmd

serve_cmd(prog_name="python -m ui")
