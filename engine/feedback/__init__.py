"""Feedback: outcomes of interventions come back and teach the models."""
