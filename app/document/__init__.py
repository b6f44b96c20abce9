"""Open designs: the DocumentController and its undo commands."""
