"""What the user manages: named collections, the document catalog, excluded documents."""
