"""The cost game of a pooled fleet: who pays what of the pooled cost (pure maths, no I/O).

Players are organisations; ``cost[S]`` is what coalition ``S`` (a frozenset of players) spends
serving its own members alone (:mod:`api.mutual` solves each coalition's week). Here:

- :func:`shapley`: the exact Shapley value, ``φ_i = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! ·
  (c(S ∪ {i}) − c(S))`` over every coalition (2ⁿ − 1 costs);
- :func:`sample_orders` / :func:`shapley_sampled`: beyond a few players, the mean marginal
  cost over random orders of arrival (Castro, Gómez & Tejada 2009) with a 95 % confidence
  half-width per player; each order's marginal costs sum to ``c(N)``, so the means do too;
- :func:`least_core`: the LP ``min ε  s.t. x(S) ≤ c(S) + ε (S ≠ N), x(N) = c(N)``: the core
  (no coalition pays more than alone) is non-empty iff ``ε ≤ 0``;
- :func:`blocking`: the coalitions that would pay less alone than under a split;
- :func:`equal_profit`: the Equal Profit Method (Frisk, Göthe-Lundgren, Jörnsten & Rönnqvist
  2010): the core split whose relative savings ``1 − x_i / c({i})`` differ least;
- :func:`proportional`, :func:`to_cents`: the simple keys, and splits rounded to the cent that
  still add up to the total.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from core.errors import InputError, SolverError

Coalition = frozenset[str]
#: Tolerance (€) below which a coalition is not said to pay more than alone.
CORE_TOL_EUR = 0.005


def coalitions(players: Sequence[str]) -> list[Coalition]:
    """Every non-empty coalition, by size then in the players' order."""
    return [
        frozenset(c) for k in range(1, len(players) + 1) for c in itertools.combinations(players, k)
    ]


def _check(
    players: Sequence[str], cost: Mapping[Coalition, float], needed: Iterable[Coalition]
) -> None:
    if len(set(players)) != len(players) or not players:
        raise InputError(f"players must be distinct and non-empty; got {list(players)}")
    missing = [sorted(c) for c in needed if c not in cost]
    if missing:
        raise InputError(f"cost game: no cost for coalition(s) {missing[:5]}")


def shapley(players: Sequence[str], cost: Mapping[Coalition, float]) -> dict[str, float]:
    """The exact Shapley value of every player (needs the cost of every coalition)."""
    _check(players, cost, coalitions(players))
    n = len(players)
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    value = {}
    for i in players:
        others = [p for p in players if p != i]
        total = cost[frozenset([i])] * weight[0]
        for k in range(1, n):
            for rest in itertools.combinations(others, k):
                s = frozenset(rest)
                total += weight[k] * (cost[s | {i}] - cost[s])
        value[i] = total
    return value


def sample_orders(players: Sequence[str], num_orders: int, seed: int) -> list[tuple[str, ...]]:
    """``num_orders`` random orders of arrival of the players (repeatable for a seed)."""
    if num_orders < 2:
        raise InputError(f"sampled Shapley needs at least 2 orders; got {num_orders}")
    rng = np.random.default_rng(seed)
    return [tuple(players[j] for j in rng.permutation(len(players))) for _ in range(num_orders)]


def prefixes(orders: Iterable[Sequence[str]]) -> set[Coalition]:
    """The coalitions whose cost the sampled Shapley value needs."""
    return {frozenset(order[: k + 1]) for order in orders for k in range(len(order))}


@dataclass(frozen=True, slots=True, kw_only=True)
class SampledShapley:
    """Mean marginal cost per player over sampled orders, with its 95 % half-width."""

    value: dict[str, float]
    half_width: dict[str, float]
    num_orders: int


def shapley_sampled(
    orders: Sequence[Sequence[str]], cost: Mapping[Coalition, float]
) -> SampledShapley:
    """The Shapley value estimated on ``orders`` (from :func:`sample_orders`)."""
    players = sorted(orders[0])
    _check(players, cost, prefixes(orders))
    marginal = {p: np.zeros(len(orders)) for p in players}
    for j, order in enumerate(orders):
        before = 0.0
        for k, p in enumerate(order):
            now = cost[frozenset(order[: k + 1])]
            marginal[p][j] = now - before
            before = now
    m = len(orders)
    return SampledShapley(
        value={p: float(v.mean()) for p, v in marginal.items()},
        half_width={p: float(1.96 * v.std(ddof=1) / math.sqrt(m)) for p, v in marginal.items()},
        num_orders=m,
    )


def _proper(players: Sequence[str], cost: Mapping[Coalition, float]) -> list[Coalition]:
    grand = frozenset(players)
    return [s for s in coalitions(players) if s != grand and s in cost]


def least_core(
    players: Sequence[str], cost: Mapping[Coalition, float]
) -> tuple[float, dict[str, float]]:
    """``(ε*, x)``: the smallest ε for which a split pays no coalition more than ε above its
    own cost (``ε* ≤ 0``: the core is not empty). Coalitions without a cost are not checked."""
    grand = frozenset(players)
    _check(players, cost, [grand])
    proper = _proper(players, cost)
    n = len(players)
    index = {p: j for j, p in enumerate(players)}
    # variables: x_1..x_n, ε (all free); minimise ε
    a_ub = np.zeros((len(proper), n + 1))
    for r, s in enumerate(proper):
        a_ub[r, [index[p] for p in s]] = 1.0
        a_ub[r, n] = -1.0
    b_ub = np.array([cost[s] for s in proper])
    a_eq = np.append(np.ones(n), 0.0)[None, :]
    res = linprog(
        np.append(np.zeros(n), 1.0),
        A_ub=a_ub if len(proper) else None,
        b_ub=b_ub if len(proper) else None,
        A_eq=a_eq,
        b_eq=[cost[grand]],
        bounds=[(None, None)] * (n + 1),
        method="highs",
    )
    if res.status != 0:
        raise SolverError(f"least-core LP: {res.message}")
    eps = float(res.x[n]) if len(proper) else -math.inf
    return eps, {p: float(res.x[index[p]]) for p in players}


def blocking(
    players: Sequence[str],
    cost: Mapping[Coalition, float],
    split: Mapping[str, float],
    tol: float = CORE_TOL_EUR,
) -> list[tuple[Coalition, float]]:
    """Coalitions that would pay less alone than under ``split``, with the excess (€),
    largest first."""
    out = []
    for s in _proper(players, cost):
        excess = sum(split[p] for p in s) - cost[s]
        if excess > tol:
            out.append((s, excess))
    return sorted(out, key=lambda item: (-item[1], sorted(item[0])))


def equal_profit(
    players: Sequence[str], cost: Mapping[Coalition, float], slack: float = 0.0
) -> dict[str, float]:
    """The Equal Profit Method split: ``min f  s.t.  f ≥ x_i/c_i − x_j/c_j`` for every pair
    with ``c_i = c({i}) > 0``, ``x(S) ≤ c(S) + slack`` (``slack`` = the least-core ε when the
    core is empty), ``x(N) = c(N)``."""
    grand = frozenset(players)
    _check(players, cost, [grand, *(frozenset([p]) for p in players)])
    proper = _proper(players, cost)
    n = len(players)
    alone = [cost[frozenset([p])] for p in players]
    paying = [j for j in range(n) if alone[j] > 0]
    rows, rhs = [], []
    for s in proper:
        row = np.zeros(n + 1)
        row[[players.index(p) for p in s]] = 1.0
        rows.append(row)
        rhs.append(cost[s] + slack)
    for i, j in itertools.permutations(paying, 2):
        row = np.zeros(n + 1)
        row[i], row[j], row[n] = 1.0 / alone[i], -1.0 / alone[j], -1.0
        rows.append(row)
        rhs.append(0.0)
    res = linprog(
        np.append(np.zeros(n), 1.0),
        A_ub=np.array(rows) if rows else None,
        b_ub=np.array(rhs) if rows else None,
        A_eq=np.append(np.ones(n), 0.0)[None, :],
        b_eq=[cost[grand]],
        bounds=[(None, None)] * n + [(0, None)],
        method="highs",
    )
    if res.status != 0:
        raise SolverError(f"equal profit LP: {res.message}")
    return {p: float(res.x[j]) for j, p in enumerate(players)}


def proportional(weights: Mapping[str, float], total: float) -> dict[str, float]:
    """``total`` split in proportion to ``weights`` (equal parts when every weight is 0)."""
    if any(w < 0 for w in weights.values()):
        raise InputError(f"weights must be >= 0; got {dict(weights)}")
    mass = sum(weights.values())
    if mass <= 0:
        return {p: total / len(weights) for p in weights}
    return {p: total * w / mass for p, w in weights.items()}


def to_cents(split: Mapping[str, float], total: float) -> dict[str, float]:
    """``split`` rounded to the cent so that the parts add up to ``total`` (rounded to the
    cent) exactly: the cents left by rounding down go to the largest remainders."""
    target = round(total * 100)
    exact = {p: v * 100 for p, v in split.items()}
    floors = {p: math.floor(v) for p, v in exact.items()}
    left = target - sum(floors.values())
    order = sorted(exact, key=lambda p: (-(exact[p] - floors[p]), p))
    step = 1 if left >= 0 else -1
    for k in range(abs(left)):
        floors[order[k % len(order)] if step > 0 else order[::-1][k % len(order)]] += step
    return {p: c / 100 for p, c in floors.items()}
