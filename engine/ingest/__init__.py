"""Getting raw feed data in: files cut into messages (``gatehound ingest`` and ``replay``)."""
