"""Rules that judge passenger events."""
