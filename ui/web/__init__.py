"""The Gradio web chat: layout, events, rendering, the viewer, the Documents tab, uploads."""
