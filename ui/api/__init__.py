"""The machine endpoints: OpenAI-compatible /v1, MCP, their bearer key and request checks."""
