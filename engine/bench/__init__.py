"""`gatehound bench`: throughput, latency, memory and cost per stage, on the embedded broker."""
