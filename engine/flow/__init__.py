"""The hot path: consumer-group loops that move batches of records through the stages.

Faust's per-message machinery costs more CPU than our whole pipeline should (see
`gatehound bench`), so records between topics move in batches through aiokafka
consumer groups: fetch a batch, run the stage functions, produce the results,
wait for the broker to have them, commit. Kafka stays the engine: its consumer
groups, partitions and offsets do all the distribution.
"""
