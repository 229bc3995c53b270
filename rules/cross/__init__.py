"""Rules that link events across transport modes (entity links land with screening)."""
