"""Files to chunks: find (.qaignore), sniff, load in a capped process, split into chunks and sentences."""
