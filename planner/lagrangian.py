"""A Lagrangian bound for the season plan, stronger than its LP relaxation.

The plan's rows fall in two kinds: those of one product (harvest definition, weekly balance,
shelf life) and those that tie products together (land, labour, rotation, revenue floors,
budget, resilience shares). Moving the second kind into the objective with multipliers ``y``
(the LP's row duals to start with) leaves one small MILP per product; the sum of their optimal
values (or of their best bounds, when one is stopped early) plus ``y·b`` is a valid lower bound
on the plan's optimum: :math:`L(y) = \\min_x c x - y (A x - b)` over the product rows.

Where the LP relaxation lets a product's harvest follow its weekly demand exactly with
fractional beds, each product's MILP plants whole beds (with their minimum sizes), so
``L(y_LP)`` is above the LP bound (on the sample: 1,844.3 k€ against the LP's 1,839.1 k€).
Its product plans also say how many beds of each crop and planting week suit each product's
demand, which ``planner.solve`` uses to search for plans.

Within one product's MILP, the planting options of one crop and planting week at different
farms have the same harvest profile and differ only in their reduced cost: they are merged
into one integer bed count split over continuous per-farm segments, filled cheapest first.
That is exact but for minimum planting sizes on a split (relaxed there), so the bound stays
valid while the MILP has one integer per crop and week instead of one per farm, crop and week.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner._highs import solve_highs
from planner.arrays import CONTINUOUS, SEMI_INTEGER, ArrayModel
from planner.formulation import PlanProblem
from planner.weeks_dp import solve_by_weeks

log = logging.getLogger(__name__)


def total_bound(blocks: Iterable[BlockResult]) -> float | None:
    """Sum of the blocks' bounds, or None when one block has no valid bound."""
    total = 0.0
    for block in blocks:
        if block.bound is None:
            return None
        total += block.bound
    return total


#: Rows tying products together: dualised.
COUPLING_ROWS = ("land", "labour", "rotation", "floor", "budget", "supply", "share", "keep")


@dataclass(frozen=True, slots=True)
class _ProductBlock:
    """One product's MILP with its beds merged per crop and planting week."""

    product: int
    model: ArrayModel
    full_cols: np.ndarray  # columns of the full model in the block (harvest, stock, ...)
    groups: list[np.ndarray]  # per merged bed column: the full model's bed columns merged
    num_plain: int  # leading sub-model columns mapping 1:1 to ``full_cols``
    useful_beds: np.ndarray  # per merged column: beds beyond which one more is only waste
    kg_per_bed: np.ndarray  # per merged column: a bed's kilos that are wasted if unsold
    waste_eur_per_kg: float  # the product's cheapest waste penalty
    harvest: list[tuple[np.ndarray, np.ndarray]]  # per merged column: weeks, kilos per bed


class Decomposition:
    """The plan model split into coupling rows and one block per product."""

    def __init__(self, problem: PlanProblem) -> None:
        m = problem.model
        self.model = m
        self.coupling = np.zeros(m.num_rows, dtype=bool)
        for name in COUPLING_ROWS:
            if name in m.rows:
                self.coupling[m.rows[name].slice()] = True
        own_rows = np.flatnonzero(~self.coupling)
        own = m.matrix[own_rows].tocsc()
        self.coupling_matrix = m.matrix[np.flatnonzero(self.coupling)].tocsr()
        self.coupling_rows = np.flatnonzero(self.coupling)
        in_own_row = np.diff(own.indptr) > 0
        self.free_cols = np.flatnonzero(~in_own_row)
        opts = problem.inputs.options
        beds = m.cols["beds"]
        o_p = opts["p"].to_numpy(int)
        group_key = opts["c"].to_numpy(int) * 1000 + opts["plant_t"].to_numpy(int)
        self.blocks: list[_ProductBlock] = []
        self.inputs = problem.inputs
        num_p, _ = problem.inputs.demand_kg.shape
        for p in range(num_p):
            plain = np.concatenate(
                [
                    m.cols[name].index(p, np.arange(m.cols[name].shape[1]))
                    for name in ("harvest", "stock", "short", "waste")
                ]
            )
            options = np.flatnonzero(o_p == p)
            rows = np.unique(own[:, plain].tocoo().row)
            keys = np.unique(group_key[options])
            groups = [beds.start + options[group_key[options] == k] for k in keys]
            self.blocks.append(self._block(p, own_rows, own, rows, plain, groups))

    def _block(
        self,
        p: int,
        own_rows: np.ndarray,
        own: sp.csc_matrix,
        rows: np.ndarray,
        plain: np.ndarray,
        groups: list[np.ndarray],
    ) -> _ProductBlock:
        """Sub-model: [plain cols | merged beds | segments] × [own rows | link rows]."""
        m = self.model
        reps = np.array([g[0] for g in groups], dtype=np.int64)
        n_plain, n_groups = len(plain), len(groups)
        seg_cols = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
        n_seg = len(seg_cols)
        top = sp.hstack(
            [own[rows][:, plain], own[rows][:, reps], sp.csr_matrix((len(rows), n_seg))]
        )
        # link rows: merged beds − Σ segments = 0
        link_r = np.repeat(np.arange(n_groups), [len(g) for g in groups])
        link = sp.hstack(
            [
                sp.csr_matrix((n_groups, n_plain)),
                sp.identity(n_groups),
                sp.csr_matrix(
                    (-np.ones(n_seg), (link_r, np.arange(n_seg))), shape=(n_groups, n_seg)
                ),
            ]
        )
        matrix = sp.vstack([top, link]).tocsr()
        kind = m.col_kind[reps]
        # a frozen planting (integer, lower = upper = its beds) keeps its beds in the segment
        seg_lower = np.where(m.col_kind[seg_cols] == SEMI_INTEGER, 0.0, m.col_lower[seg_cols])
        fixed_g = np.array(
            [
                seg_lower[s : s + len(g)].sum()
                for s, g in zip(np.cumsum([0] + [len(g) for g in groups])[:-1], groups, strict=True)
            ],
            dtype=float,
        )
        lower_g = np.maximum(np.where(kind == SEMI_INTEGER, m.col_lower[reps], 0.0), fixed_g)
        upper_g = np.array([m.col_upper[g].sum() for g in groups], dtype=float)
        seg_upper = m.col_upper[seg_cols]
        model = ArrayModel(
            matrix=matrix,
            cost=np.zeros(n_plain + n_groups + n_seg),
            col_lower=np.concatenate([m.col_lower[plain], lower_g, seg_lower]),
            col_upper=np.concatenate([m.col_upper[plain], upper_g, seg_upper]),
            col_kind=np.concatenate(
                [m.col_kind[plain], kind, np.full(n_seg, CONTINUOUS, dtype=np.int8)]
            ),
            row_lower=np.concatenate([m.row_lower[own_rows[rows]], np.zeros(n_groups)]),
            row_upper=np.concatenate([m.row_upper[own_rows[rows]], np.zeros(n_groups)]),
            cols={},
            rows={},
        )
        inputs = self.inputs
        harvest = []
        for g in groups:
            mine = inputs.harvest_o == g[0] - m.cols["beds"].start
            harvest.append((inputs.harvest_t[mine], inputs.harvest_kg_per_bed[mine]))
        useful, kg = self._useful_beds(p, harvest)
        waste = m.cols["waste"]
        waste_cost = float(m.cost[waste.index(p, np.arange(waste.shape[1]))].min())
        return _ProductBlock(
            product=p,
            model=model,
            full_cols=np.concatenate([plain, seg_cols]),
            groups=groups,
            num_plain=n_plain,
            useful_beds=useful,
            kg_per_bed=kg,
            waste_eur_per_kg=waste_cost,
            harvest=harvest,
        )

    def _useful_beds(
        self, p: int, harvest: list[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per merged column, a number of beds U past which a further bed is pure waste.

        The harvest of week t can serve only the demand of weeks t … t + shelf (``R_t``).
        With ``N`` beds and ``N − 1 ≥ R_t / k_t`` in every harvest week t (``k_t`` a bed's
        kilos that week), a solution keeps serving the same kilos with one bed less, and
        saves that bed's reduced cost plus the waste of its kilos: so when that saving is not
        negative some optimum has at most ``U = max_t ⌈R_t / k_t⌉ + 1`` beds. In a season
        that does not wrap around, kilos harvested within the shelf life of its end may stay
        in stock at the end, unsold but not wasted: they save no waste penalty (returned per
        column: the kilos of a bed that would be wasted).
        """
        inputs = self.inputs
        demand = inputs.demand_kg[p]
        num_t = len(demand)
        shelf = int(inputs.products["shelf_weeks"].iat[p])
        reach = np.zeros(num_t)
        for j in range(shelf + 1):
            if inputs.cyclic:
                reach += np.roll(demand, -j)
            else:
                reach[: num_t - j] += demand[j:]
        useful = np.zeros(len(harvest))
        kg = np.zeros(len(harvest))
        for i, (t, k_t) in enumerate(harvest):
            ok = k_t > 0
            wasted = np.ones_like(ok) if inputs.cyclic else (t + shelf < num_t - 1) | (shelf == 0)
            kg[i] = k_t[wasted].sum()
            useful[i] = np.ceil(np.max(reach[t[ok]] / k_t[ok], initial=0.0)) + 1
        return useful, kg

    def project(self, y: np.ndarray) -> np.ndarray:
        """Multipliers with the sign their row bounds allow (0 off the coupling rows)."""
        m = self.model
        y = np.where(self.coupling, y, 0.0)
        y = np.where(np.isfinite(m.row_lower), y, np.minimum(y, 0.0))
        return np.where(np.isfinite(m.row_upper), y, np.maximum(y, 0.0))

    def fixed_part(self, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """Reduced costs under ``y``, and ``y·b`` plus the best of the columns outside every
        product block (occupancy, floor gaps, ...), with their values; ``-inf`` if unbounded."""
        m = self.model
        y = self.project(y)
        yc = y[self.coupling_rows]
        reduced = m.cost - self.coupling_matrix.T @ yc
        rhs = np.where(yc > 0, m.row_lower[self.coupling_rows], m.row_upper[self.coupling_rows])
        value = float(np.dot(yc[yc != 0], rhs[yc != 0]))
        x = np.zeros(m.num_cols)
        free = self.free_cols
        rc = reduced[free]
        rc = np.where(np.abs(rc) < 1e-7, 0.0, rc)  # basic columns of the LP: 0 up to rounding
        at = np.where(rc < 0, m.col_upper[free], m.col_lower[free])
        if not np.all(np.isfinite(at[rc != 0])):
            return reduced, -np.inf, x
        x[free] = np.where(rc != 0, at, m.col_lower[free])
        return reduced, value + float(rc @ x[free]), x

    def block_model(self, block: _ProductBlock, reduced: np.ndarray) -> ArrayModel:
        """One product's MILP under the reduced costs (merged beds capped where valid)."""
        n_plain = block.num_plain
        n_groups = len(block.groups)
        segments = reduced[block.full_cols[n_plain:]]
        cost = np.concatenate([reduced[block.full_cols[:n_plain]], np.zeros(n_groups), segments])
        sub = block.model
        upper = sub.col_upper
        if n_groups:
            # where the cheapest bed of a merged column at least pays for its own waste, cap
            # the column at its useful beds (see _useful_beds)
            seg_start = np.cumsum([0] + [len(g) for g in block.groups])[:-1]
            cheapest = np.minimum.reduceat(segments, seg_start)
            capped = cheapest + block.waste_eur_per_kg * block.kg_per_bed >= 0
            merged = slice(n_plain, n_plain + n_groups)
            upper = upper.copy()
            upper[merged] = np.where(
                capped,
                np.minimum(upper[merged], np.maximum(block.useful_beds, sub.col_lower[merged])),
                upper[merged],
            )
        return dataclasses.replace(sub, cost=cost, col_upper=upper)

    def solve_blocks(
        self,
        reduced: np.ndarray,
        which: list[int],
        *,
        time_limit_s: float,
        block_limit_s: float,
        threads: int = 1,
        nodes: int | None = None,
        starts: dict[int, np.ndarray] | None = None,
    ) -> dict[int, BlockResult]:
        """Solve the given product blocks; one :class:`BlockResult` per block index.

        With ``nodes``, each block's MILP stops after that many branch-and-bound nodes (the
        work rule: the same answer on any machine) and ``time_limit_s`` is only a safety cap;
        otherwise each gets at most ``block_limit_s`` and a share of the time left. When the
        time is nearly out, the remaining blocks count with their LP relaxation (valid,
        weaker), so every block with a bound has a valid one; the bound is ``None`` only if
        HiGHS fails. ``starts`` gives block values of an earlier pass to start from.
        """
        deadline = time.perf_counter() + time_limit_s
        per_block: dict[int, BlockResult] = {}
        for done, i in enumerate(which):
            block = self.blocks[i]
            sub = self.block_model(block, reduced)
            by_weeks = solve_by_weeks(
                block, sub, self.inputs.demand_kg[block.product], self.inputs.cyclic
            )
            if by_weeks is not None:
                value, values = by_weeks
                mine = [
                    (
                        block.full_cols,
                        np.concatenate(
                            [
                                values[: block.num_plain],
                                values[block.num_plain + len(block.groups) :],
                            ]
                        ),
                    )
                ]
                per_block[i] = BlockResult(bound=value, found=mine, optimal=True, values=values)
                log.debug("product %d: solved by weeks, %.1f", block.product, value)
                continue
            remaining = len(which) - done
            left = deadline - time.perf_counter() - 0.02 * remaining
            capped = left <= 0.1
            if not capped:
                start = (starts or {}).get(i)
                options = {"mip_heuristic_effort": 0.01} if start is not None else {}
                if nodes is not None:
                    options["mip_max_nodes"] = int(nodes)
                    share = left
                else:
                    share = left / remaining if np.isinf(block_limit_s) else block_limit_s
                raw = solve_highs(
                    sub,
                    time_limit_s=min(share, left),
                    gap=1e-6,
                    threads=threads,
                    log_to_console=False,
                    warm_start=start,
                    options=options or None,
                )
                capped = nodes is not None and raw.status == "time_limit"
            else:  # out of time: the LP relaxation's bound
                raw = solve_highs(
                    dataclasses.replace(
                        sub,
                        col_kind=np.zeros_like(sub.col_kind),
                        col_lower=np.where(sub.col_kind == SEMI_INTEGER, 0.0, sub.col_lower),
                    ),
                    time_limit_s=10.0,
                    gap=1e-6,
                    threads=threads,
                    log_to_console=False,
                )
            if raw.best_bound is None or raw.status in ("error", "infeasible"):
                per_block[i] = BlockResult(
                    bound=None, found=[], optimal=False, values=None, capped=capped
                )
                continue
            log.debug(
                "product %d: %s, bound %.1f, %.2f s",
                block.product,
                raw.status,
                raw.best_bound,
                raw.runtime_s,
            )
            mine = []
            if raw.values is not None:
                n_plain, n_groups = block.num_plain, len(block.groups)
                mine = [
                    (
                        block.full_cols,
                        np.concatenate([raw.values[:n_plain], raw.values[n_plain + n_groups :]]),
                    )
                ]
            per_block[i] = BlockResult(
                bound=raw.best_bound,
                found=mine,
                optimal=raw.status == "optimal" and not capped,
                values=raw.values,
                capped=capped,
            )
        return per_block

    def evaluate(
        self,
        y: np.ndarray,
        *,
        deadline: float,
        threads: int = 1,
        block_limit_s: float = 3.0,
        nodes: int | None = None,
    ) -> tuple[float | None, np.ndarray | None, bool]:
        """``L(y)``, the minimiser found (full-model columns) and whether it is exact, in
        this process; ``(None, None, False)`` when a block has no bound."""
        reduced, value, x = self.fixed_part(y)
        if not np.isfinite(value):
            return -np.inf, None, False
        blocks = self.solve_blocks(
            reduced,
            list(range(len(self.blocks))),
            time_limit_s=deadline - time.perf_counter(),
            block_limit_s=block_limit_s,
            threads=threads,
            nodes=nodes,
        )
        total = total_bound(blocks.values())
        if total is None:
            return None, None, False
        for b in blocks.values():
            for cols, values in b.found:
                x[cols] = values
        return (
            value + total,
            x,
            all(b.optimal for b in blocks.values()),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockResult:
    """One product block's MILP: its bound (``None``: no valid bound), the values found as
    ``(full-model columns, values)`` pairs, whether it was solved to optimality, its own
    sub-model values (a start for a later pass) and whether the safety cap cut it."""

    bound: float | None
    found: list
    optimal: bool
    values: np.ndarray | None
    capped: bool = False

    def merged(self, earlier: BlockResult | None) -> BlockResult:
        """This pass's result folded with an earlier pass's: the better of two valid bounds
        (a pass without a bound keeps the earlier one), the newer values where there are."""
        if earlier is None:
            return self
        bounds = [b for b in (self.bound, earlier.bound) if b is not None]
        return BlockResult(
            bound=max(bounds) if bounds else None,
            found=self.found or earlier.found,
            optimal=self.optimal or earlier.optimal,
            values=self.values if self.values is not None else earlier.values,
            capped=self.capped or earlier.capped,
        )
