"""Rules that judge freight events."""
