"""A MILP as sparse arrays: blocks of columns and rows, and the builder that accumulates them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

CONTINUOUS, INTEGER, SEMI_INTEGER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Block:
    """A block of columns or rows: its offset and shape."""

    start: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        """Number of columns (rows) in the block."""
        return int(np.prod(self.shape)) if self.shape else 1

    def index(self, *idx: ArrayLike) -> np.ndarray:
        """Global indices of the given (broadcast) block coordinates."""
        if not self.shape:
            return np.asarray(self.start)
        arrays = np.broadcast_arrays(*(np.asarray(i, dtype=np.int64) for i in idx))
        return self.start + np.ravel_multi_index(tuple(arrays), self.shape)

    def slice(self) -> slice:
        """The block's columns (rows) as a slice."""
        return slice(self.start, self.start + self.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrayModel:
    """A MILP ``min c·x  s.t.  row_lower ≤ A x ≤ row_upper,  col_lower ≤ x ≤ col_upper``."""

    matrix: sp.csr_matrix
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_kind: np.ndarray  # CONTINUOUS / INTEGER / SEMI_INTEGER
    row_lower: np.ndarray
    row_upper: np.ndarray
    cols: dict[str, Block]
    rows: dict[str, Block]
    row_names: tuple[str, ...] = ()

    @property
    def num_cols(self) -> int:
        """Number of variables."""
        return len(self.cost)

    @property
    def num_rows(self) -> int:
        """Number of constraints."""
        return len(self.row_lower)

    @property
    def num_int(self) -> int:
        """Number of integer (and semi-integer) variables."""
        return int(np.count_nonzero(self.col_kind != CONTINUOUS))


def _flat(value: ArrayLike, n: int) -> np.ndarray:
    """``value`` (scalar or array of n items, any shape) as a flat float array of n items."""
    arr = np.asarray(value, dtype=float)
    if arr.size == n:
        return arr.ravel().copy()
    return np.broadcast_to(arr, (n,)).copy()


class Builder:
    """Accumulates columns and COO row entries, then freezes them into an :class:`ArrayModel`."""

    def __init__(self) -> None:
        self.num_cols = 0
        self.num_rows = 0
        self.cols: dict[str, Block] = {}
        self.rows: dict[str, Block] = {}
        self._col_parts: list[tuple[np.ndarray, ...]] = []
        self._row_bounds: list[tuple[np.ndarray, np.ndarray]] = []
        self._entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add_cols(
        self,
        name: str,
        shape: tuple[int, ...],
        *,
        lower: ArrayLike = 0.0,
        upper: ArrayLike = np.inf,
        cost: ArrayLike = 0.0,
        kind: ArrayLike = CONTINUOUS,
    ) -> Block:
        block = Block(self.num_cols, shape)
        n = block.size
        self._col_parts.append(tuple(_flat(v, n) for v in (lower, upper, cost, kind)))
        self.cols[name] = block
        self.num_cols += n
        return block

    def add_rows(
        self,
        name: str,
        shape: tuple[int, ...],
        *,
        lower: ArrayLike = -np.inf,
        upper: ArrayLike = np.inf,
    ) -> Block:
        block = Block(self.num_rows, shape)
        n = block.size
        self._row_bounds.append((_flat(lower, n), _flat(upper, n)))
        self.rows[name] = block
        self.num_rows += n
        return block

    def add_entries(self, rows: ArrayLike, cols: ArrayLike, values: ArrayLike) -> None:
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        values = np.broadcast_to(np.asarray(values, dtype=float), rows.shape).ravel()
        self._entries.append((rows, cols, values))

    def build(self) -> ArrayModel:
        lower, upper, cost, kind = (
            np.concatenate([part[i] for part in self._col_parts]) for i in range(4)
        )
        row_lower = np.concatenate([b[0] for b in self._row_bounds])
        row_upper = np.concatenate([b[1] for b in self._row_bounds])
        r = np.concatenate([e[0] for e in self._entries])
        c = np.concatenate([e[1] for e in self._entries])
        v = np.concatenate([e[2] for e in self._entries])
        matrix = sp.csr_matrix((v, (r, c)), shape=(self.num_rows, self.num_cols))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return ArrayModel(
            matrix=matrix,
            cost=cost,
            col_lower=lower,
            col_upper=upper,
            col_kind=kind.astype(np.int8),
            row_lower=row_lower,
            row_upper=row_upper,
            cols=dict(self.cols),
            rows=dict(self.rows),
        )
