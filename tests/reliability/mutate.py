"""Mutated copies of a valid file, the raw material of the reader fuzzing."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

__all__ = ["MUTATED", "mutated_file", "mutations"]

MUTATED = "with flipped, inserted, deleted or cut bytes"


def mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """The valid file with bytes flipped, inserted, deleted or cut off — or random bytes."""

    @st.composite
    def mutate(draw):
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 6))):
            op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            if op == "flip" and data:
                data[at] = draw(st.integers(0, 255))
            elif op == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=8))
            elif op == "delete" and data:
                del data[at : at + draw(st.integers(1, 8))]
            else:
                data = data[:at]
        return bytes(data)

    return st.one_of(mutate(), st.binary(max_size=300))


def mutated_file(folder: Path, name: str, data: st.DataObject, valid: bytes) -> Path:
    """``folder/name`` holding a mutation of ``valid`` drawn from ``data``."""
    path = folder / name
    path.write_bytes(data.draw(mutations(valid)))
    return path
