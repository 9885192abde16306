"""Projects: the lists tasks belong to, and who shares them."""
