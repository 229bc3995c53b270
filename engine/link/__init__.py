"""Linking: identifiers shared across events and modes, and the networks they reveal."""
