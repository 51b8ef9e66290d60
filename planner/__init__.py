"""MILP crop and supply planning for producer partnerships.

``build_plan_problem(territory, hub_demand, params=...)`` → ``solve_plan(problem, params)`` →
``write_plan_outputs(result, problem, out_dir)``; ``kpis`` and scenarios for what-if runs.
"""

from planner.commitments import active as active_contracts
from planner.commitments import diff as contract_diff
from planner.commitments import freeze
from planner.formulation import PlanProblem, build_plan_problem
from planner.inputs import history_demand
from planner.outputs import beds_kept, kpi_table, kpis, read_kpis, within_noise, write_plan_outputs
from planner.params import PlanParams, Weights, YieldShock, plan_params
from planner.scenario import Scenario, apply_scenario, load_scenario
from planner.solve import PlanResult, PlanStatus, solve_plan

__all__ = [
    "PlanParams",
    "PlanProblem",
    "PlanResult",
    "PlanStatus",
    "Scenario",
    "Weights",
    "YieldShock",
    "active_contracts",
    "apply_scenario",
    "beds_kept",
    "build_plan_problem",
    "contract_diff",
    "freeze",
    "history_demand",
    "kpi_table",
    "kpis",
    "load_scenario",
    "plan_params",
    "read_kpis",
    "solve_plan",
    "within_noise",
    "write_plan_outputs",
]
