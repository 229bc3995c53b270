"""Model files: one River model per file, registered with ``@model`` (engine/score/model.py)."""
