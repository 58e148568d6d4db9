"""Steam wishlist import: read the profile a person names, fetch its wishlist, watch its games."""
