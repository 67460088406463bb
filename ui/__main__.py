"""`python -m ui`: the web chat, exactly like `qa serve` (same flags, settings from QA_* variables)."""
import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from qa.cli import serve_cmd  # noqa: E402

serve_cmd(prog_name="python -m ui")
