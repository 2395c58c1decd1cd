"""A local Duckling server: Duckling's own HTTP contract over the in-process Duckling library.

Production runs the `rasa/duckling` image; locally and in tests this process stands in for
it, so Rasa's `DucklingEntityExtractor` and the action server work unchanged.
"""
