"""Beat: the database scheduler, its entries, timing, the one-beat lock and admin edits."""
