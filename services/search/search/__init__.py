"""search: its own projection of everything staff look for, fed only by events."""
