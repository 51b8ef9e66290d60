"""HiGHS through highspy: the only module importing highspy.

The array model is passed in one call (column-wise matrix); minimum planting sizes are native
semi-integer columns. The best bound and gap are read from HiGHS's info, not guessed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from core.errors import SolverError
from core.highs import quiet_highs
from planner.arrays import CONTINUOUS, INTEGER, SEMI_INTEGER, ArrayModel

log = logging.getLogger(__name__)

_KIND = {
    CONTINUOUS: highspy.HighsVarType.kContinuous,
    INTEGER: highspy.HighsVarType.kInteger,
    SEMI_INTEGER: highspy.HighsVarType.kSemiInteger,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RawSolution:
    """What a backend returns: status words, values and the figures of the search."""

    status: str  # optimal | time_limit | work_limit | interrupted | infeasible | error
    has_solution: bool
    values: np.ndarray | None
    objective: float | None
    best_bound: float | None
    gap: float | None
    runtime_s: float
    message: str = ""
    row_duals: np.ndarray | None = None  # LPs only (no integer columns)

    @classmethod
    def nothing(cls, status: str, message: str) -> RawSolution:
        """A step that ended (or never started) without a solution or a bound."""
        return cls(
            status=status,
            has_solution=False,
            values=None,
            objective=None,
            best_bound=None,
            gap=None,
            runtime_s=0.0,
            message=message,
        )


_scheduler_threads: int | None = None


def _new_highs() -> highspy.Highs:
    """A Highs instance without the banner (:func:`core.highs.quiet_highs`)."""
    return quiet_highs()


def _to_float(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) and abs(value) < 1e30 else None


def solve_highs(
    model: ArrayModel,
    *,
    time_limit_s: float,
    gap: float,
    threads: int,
    log_to_console: bool,
    warm_start: np.ndarray | None = None,
    on_progress: Callable[[dict], None] | None = None,
    options: dict | None = None,
) -> RawSolution:
    """Solve the array model with HiGHS (branch and cut, simplex or IPM for the root)."""
    started = time.perf_counter()
    global _scheduler_threads
    if _scheduler_threads is not None and _scheduler_threads != int(threads):
        # HiGHS keeps one thread scheduler per process, sized by the first solve: a solve
        # with another thread count fails unless it is reset
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = int(threads)
    h = _new_highs()
    h.setOptionValue("output_flag", bool(log_to_console))
    h.setOptionValue("log_to_console", bool(log_to_console))
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("threads", int(threads))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)

    csc = model.matrix.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = model.num_cols
    lp.num_row_ = model.num_rows
    lp.col_cost_ = model.cost
    lp.col_lower_ = model.col_lower
    lp.row_lower_ = np.where(np.isfinite(model.row_lower), model.row_lower, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(model.row_upper), model.row_upper, highspy.kHighsInf)
    lp.col_upper_ = np.where(np.isfinite(model.col_upper), model.col_upper, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.a_matrix_.num_col_ = model.num_cols
    lp.a_matrix_.num_row_ = model.num_rows
    lp.integrality_ = [_KIND[int(k)] for k in model.col_kind]
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the plan model (passModel failed)")
    if warm_start is not None and len(warm_start) == model.num_cols:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, warm_start))
        sol.value_valid = True
        h.setSolution(sol)

    # HiGHS checks its time limit between root cut rounds only, which on these models can be
    # 20 s late: interrupt it from its own callbacks as well
    deadline = started + float(time_limit_s)

    def _stop_when_late(event: Any) -> None:
        if time.perf_counter() > deadline:
            event.interrupt()

    h.cbMipInterrupt.subscribe(_stop_when_late)
    h.cbIpmInterrupt.subscribe(_stop_when_late)
    h.cbSimplexInterrupt.subscribe(_stop_when_late)

    if on_progress is not None:

        def _report(event: Any) -> None:
            out = event.data_out
            on_progress(
                {
                    "objective": _to_float(out.mip_primal_bound),
                    "best_bound": _to_float(out.mip_dual_bound),
                    "gap": _to_float(out.mip_gap),
                    "runtime_s": float(out.running_time),
                }
            )

        h.cbMipImprovingSolution.subscribe(_report)
        h.cbMipLogging.subscribe(_report)

    h.run()
    runtime = time.perf_counter() - started
    model_status = h.getModelStatus()
    info = h.getInfo()
    words = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
        highspy.HighsModelStatus.kInterrupt: "interrupted",
        # node, leaf and iteration limits: the work budget, not the clock
        highspy.HighsModelStatus.kIterationLimit: "work_limit",
        highspy.HighsModelStatus.kSolutionLimit: "work_limit",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
        highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    }
    word = words.get(model_status, "error")
    # the status alone can say "time limit" with or without a plan: check the primal status
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    is_lp = not np.any(model.col_kind != CONTINUOUS)
    solution = h.getSolution()
    values = np.asarray(solution.col_value, dtype=float) if has_solution else None
    row_duals = None
    if has_solution and solution.dual_valid and is_lp:
        row_duals = np.asarray(solution.row_dual, dtype=float)
    objective = _to_float(info.objective_function_value) if has_solution else None
    bound = _to_float(info.mip_dual_bound) if not is_lp else None
    mip_gap = _to_float(info.mip_gap) if has_solution else None
    if word == "error":
        bound = None
    if word == "optimal" and has_solution:
        bound = objective if bound is None else bound
        mip_gap = mip_gap if mip_gap is not None else 0.0
    message = h.modelStatusToString(model_status)
    if word == "interrupted" and time.perf_counter() >= deadline:
        word, message = "time_limit", "Time limit reached"  # our own deadline interrupt
    log.info(
        "HiGHS: %s, objective %s, bound %s, gap %s, %.1f s",
        message,
        objective,
        bound,
        mip_gap,
        runtime,
    )
    return RawSolution(
        status=word,
        has_solution=has_solution,
        values=values,
        objective=objective,
        best_bound=bound,
        gap=mip_gap,
        runtime_s=runtime,
        message=message,
        row_duals=row_duals,
    )
