"""The LLM answerer: prompts, bounded calls, citations checked before release."""
