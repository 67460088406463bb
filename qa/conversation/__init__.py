"""How a turn leans on the conversation: turn classes, readings, follow-ups, question hygiene."""
