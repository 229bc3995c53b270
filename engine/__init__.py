"""gatehound engine: the runtime that carries events from raw feeds to alerts."""

__version__ = "0.1.0"
