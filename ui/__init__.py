"""The Gradio web chat over the index (`qa serve`, `python -m ui`)."""
