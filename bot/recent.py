"""What the NLU components keep of the texts seen lately.

A handful of texts ("yes", "1", "thanks", "ok", "hi") make up much of WhatsApp traffic, and
the pipeline's components are deterministic functions of the text: a text seen lately needs
neither its sentence vector, nor its entities, nor Duckling's "nothing here" computed again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Recent(Generic[Key, Value]):
    """The values of the last `size` keys used (least recently used first out); one lock, as
    Rasa may parse on more than one thread (the channel's consumer and the HTTP API). A size of
    0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Key, Value] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._values

    def __iter__(self) -> Iterator[Key]:
        """The keys kept now, least recently used first."""
        with self._lock:
            return iter(list(self._values))

    def get(self, key: Key) -> Value | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: Key, value: Value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
