"""A moment: everything a frame shows and everything training needs to carry on, as one
immutable value. Frames are pure functions of a moment; the timeline is a list of them;
a fork starts from one; the store serialises one (`pack` / `unpack`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from app.engine import Trace


@dataclass(frozen=True, eq=False)
class BatchState:
    """Where the mini-batch order stands: the generator's state, this epoch's order and
    the position in it."""

    rng: Mapping
    order: np.ndarray | None
    position: int


@dataclass(frozen=True, eq=False)
class Moment:
    seq: int                     # +1 for every visible change of the session
    step: int                    # weight updates applied so far
    examples_seen: int
    train_size: int              # m of the training set (epoch = examples_seen / train_size)
    generation: int              # +1 when the step counter restarts or jumps back
    structure: int               # +1 when the network or data is rebuilt
    status: str                  # paused | running | diverged
    message: str | None
    focus: int                   # the training example the diagram follows
    config: Mapping              # the session's settings (read-only)
    weights: tuple[np.ndarray, ...]   # read-only; weights[l].shape == (sizes[l+1], sizes[l])
    biases: tuple[np.ndarray, ...]
    cursor: Any                  # cursor.PhaseWalk | cursor.ExampleLoop | None
    last: Any                    # cursor.Update | None: the last update made
    optimizer: Mapping           # the optimizer's named state arrays (momentum, Adam moments)
    batches: BatchState

    @property
    def epoch(self) -> float:
        return self.examples_seen / self.train_size


def frozen_arrays(arrays) -> tuple[np.ndarray, ...]:
    """Read-only copies: a moment never changes after it is made."""
    out = []
    for a in arrays:
        a = np.array(a, dtype=np.float64)
        a.flags.writeable = False
        out.append(a)
    return tuple(out)


def readonly(config: Mapping) -> Mapping:
    return MappingProxyType({k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items()})


# -- serialisation: a JSON tree plus one blob of raw arrays ------------------------------
_RECORDS: dict[str, type] = {}


def record_types(*types: type) -> None:
    """Declare the dataclasses `pack` may meet (the cursor's records, Trace, Moment…)."""
    for t in types:
        _RECORDS[t.__name__] = t


record_types(BatchState, Moment, Trace)


@dataclasses.dataclass(frozen=True)
class Packed:
    """A value already packed: `pack` embeds its bytes as they are and `unpack` gives the
    value back, so an immutable value (a past moment) is serialised once, not per write."""

    blob: bytes

    @classmethod
    def of(cls, value: Any) -> Packed:
        return cls(pack(value))


def pack(value: Any) -> bytes:
    """bytes = 8-byte header length, JSON header, then the arrays' raw bytes."""
    arrays: list[np.ndarray] = []

    def tree(v: Any) -> Any:
        if isinstance(v, Packed):
            arrays.append(np.frombuffer(v.blob, np.uint8))
            return {"__packed__": len(v.blob)}
        if isinstance(v, np.ndarray):
            arrays.append(np.ascontiguousarray(v))
            return {"__array__": len(arrays) - 1, "dtype": v.dtype.str, "shape": list(v.shape)}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {"__record__": type(v).__name__,
                    **{f.name: tree(getattr(v, f.name)) for f in dataclasses.fields(v)}}
        if isinstance(v, Mapping):
            return {"__map__": [[tree(k), tree(x)] for k, x in v.items()]}
        if isinstance(v, (list, tuple)):
            return [tree(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        return v

    header = json.dumps(tree(value)).encode()
    return len(header).to_bytes(8, "little") + header + b"".join(a.tobytes() for a in arrays)


def unpack(blob: bytes) -> Any:
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    offset = 8 + n

    def array(spec: dict) -> np.ndarray:
        nonlocal offset
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        a = np.frombuffer(blob, dtype=dtype, count=count, offset=offset).reshape(spec["shape"]).copy()
        offset += count * dtype.itemsize
        return a

    def value(v: Any, in_record: bool = False) -> Any:
        if isinstance(v, dict):
            if "__array__" in v:
                return array(v)
            if "__packed__" in v:
                nonlocal offset
                start, offset = offset, offset + v["__packed__"]
                return unpack(blob[start:offset])
            if "__record__" in v:
                cls = _RECORDS[v["__record__"]]
                return cls(**{f.name: value(v[f.name], True) for f in dataclasses.fields(cls)})
            if "__map__" in v:
                return {value(k): value(x) for k, x in v["__map__"]}
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            items = [value(x, in_record) for x in v]
            return tuple(items) if in_record else items
        return v

    return value(header)
