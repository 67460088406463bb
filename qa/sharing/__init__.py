"""Conversations as Markdown/JSON and evidence bundles anyone can check."""
