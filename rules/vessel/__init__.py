"""Rules that judge vessel events."""
