"""`qa eval`: runs the sets in qa/evalsets and reports the shared metrics."""
