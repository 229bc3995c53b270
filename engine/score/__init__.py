"""Score: enriched events in, a score record for every event out."""
