"""The PuLP model made from the array model, and CBC through PuLP (the only module importing
PuLP).

Each row becomes one ``LpAffineExpression`` built from its term list (never ``sum`` or ``+``
in a loop, which is quadratic). CBC has no semi-integer variables: each semi-integer column
``x ∈ {0} ∪ [m, u]`` gets a binary ``z`` with ``m·z ≤ x ≤ u·z``.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pulp

from core.errors import SolverError
from planner._highs import RawSolution
from planner.arrays import CONTINUOUS, SEMI_INTEGER, ArrayModel

log = logging.getLogger(__name__)


def to_pulp(
    model: ArrayModel,
    *,
    name: str = "vivres_plan",
    semi_as_binary: bool = True,
    start: np.ndarray | None = None,
) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """Return the PuLP problem and its variables in column order (``start``: initial values)."""
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    semi = model.col_kind == SEMI_INTEGER
    lower = np.where(semi & semi_as_binary, 0.0, model.col_lower)
    variables = []
    for j in range(model.num_cols):
        ub = model.col_upper[j]
        variables.append(
            pulp.LpVariable(
                f"c{j}",
                lowBound=float(lower[j]),
                upBound=float(ub) if np.isfinite(ub) else None,
                cat=pulp.LpContinuous if model.col_kind[j] == CONTINUOUS else pulp.LpInteger,
            )
        )
    if start is not None:
        # solver noise (-3e-15 for a 0) would be refused by PuLP: clip into the bounds
        semi = model.col_kind == SEMI_INTEGER
        start = np.where(
            semi & (start < 0.5),
            0.0,
            np.clip(start, np.where(semi, 0.0, model.col_lower), model.col_upper),
        )
        for var, value in zip(variables, start, strict=True):
            var.setInitialValue(float(value))
    nz = np.flatnonzero(model.cost)
    prob.setObjective(pulp.LpAffineExpression([(variables[j], float(model.cost[j])) for j in nz]))
    csr = model.matrix
    indptr, indices, data = csr.indptr, csr.indices, csr.data
    for i in range(model.num_rows):
        lo, hi = model.row_lower[i], model.row_upper[i]
        terms = [
            (variables[j], float(v))
            for j, v in zip(
                indices[indptr[i] : indptr[i + 1]], data[indptr[i] : indptr[i + 1]], strict=True
            )
        ]
        expr = pulp.LpAffineExpression(terms)
        if lo == hi:
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", float(lo)))
            continue
        if np.isfinite(lo):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}_lo", float(lo)))
        if np.isfinite(hi):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}_hi", float(hi)))
    if semi_as_binary:
        for j in map(int, np.flatnonzero(semi)):
            z = pulp.LpVariable(f"z{j}", cat=pulp.LpBinary)
            x = variables[j]
            if start is not None:
                z.setInitialValue(1.0 if start[j] > 0.5 else 0.0)
            prob.addConstraint(
                pulp.LpConstraint(
                    pulp.LpAffineExpression([(x, 1.0), (z, -float(model.col_upper[j]))]),
                    pulp.LpConstraintLE,
                    f"semi{j}_hi",
                    0.0,
                )
            )
            prob.addConstraint(
                pulp.LpConstraint(
                    pulp.LpAffineExpression([(x, 1.0), (z, -float(model.col_lower[j]))]),
                    pulp.LpConstraintGE,
                    f"semi{j}_lo",
                    0.0,
                )
            )
    return prob, variables


_CBC_FIGURE = re.compile(r"^(Objective value|Lower bound|Gap):\s+(\S+)", re.MULTILINE)


def solve_cbc(
    model: ArrayModel,
    *,
    time_limit_s: float,
    gap: float,
    threads: int,
    log_to_console: bool,
    start: np.ndarray | None = None,
) -> RawSolution:
    """Solve with CBC via PuLP from ``start`` (a feasible plan, e.g. the empty one); read the
    bound and gap from CBC's own summary."""
    started = time.perf_counter()
    prob, variables = to_pulp(model, start=start)
    with tempfile.TemporaryDirectory(prefix="vivres_cbc_") as tmp:
        log_path = Path(tmp) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(
            msg=log_to_console,
            timeLimit=float(time_limit_s),
            gapRel=float(gap),
            threads=int(threads),
            logPath=str(log_path),
            warmStart=start is not None,
        )
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as exc:
            raise SolverError(f"CBC failed: {exc}") from None
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
    runtime = time.perf_counter() - started
    figures = {k: v for k, v in _CBC_FIGURE.findall(text)}
    # PuLP may say "Optimal" after a time limit: sol_status tells whether it proved it
    has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    stopped = "Stopped on time" in text or "Stopped on iterations" in text
    if prob.sol_status == pulp.LpSolutionOptimal and not stopped:
        word = "optimal"
    elif has_solution:
        word = "time_limit"
    elif prob.status == pulp.LpStatusInfeasible:
        word = "infeasible"
    else:
        word = "time_limit" if stopped else "error"
    values = None
    objective = best_bound = mip_gap = None
    if has_solution:
        values = np.array([v.varValue or 0.0 for v in variables], dtype=float)
        objective = float(model.cost @ values)
    if "Lower bound" in figures:
        best_bound = float(figures["Lower bound"])
    elif word == "optimal":
        best_bound = objective
    if objective is not None and best_bound is not None:
        mip_gap = abs(objective - best_bound) / max(abs(objective), 1e-9)
    log.info("CBC: %s, objective %s, bound %s, %.1f s", word, objective, best_bound, runtime)
    return RawSolution(
        status=word,
        has_solution=has_solution,
        values=values,
        objective=objective,
        best_bound=best_bound,
        gap=mip_gap,
        runtime_s=runtime,
        message=f"CBC {pulp.LpStatus[prob.status]}",
    )
