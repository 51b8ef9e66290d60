"""Weekly demand from grocery orders and caisse spending; the caisse ledger; forecasts.

Public API (what ``api.pipeline`` calls):

- :func:`build_weekly_demand` → :class:`DemandBuild` (``weekly``, ``rejects``, ``duplicates``,
  ``flags``, ``caisse_share``);
- :func:`forecast_demand` → ``week_start, site_id, product_id, kg, low, high``;
- :func:`hub_demand` → ``week_start, product_id, storage_class, kg, low, high``;
- :func:`caisse_ledger` → one row per month;
- :func:`backtest` → :class:`BacktestResult`.
"""

from demand.backtest import BacktestResult, backtest
from demand.build import DemandBuild, build_weekly_demand
from demand.caisse import CaisseRule, parse_rule
from demand.forecast import ForecastParams, forecast_demand, hub_demand
from demand.ledger import WhatIf, caisse_ledger
from demand.orders import OrderCheckParams

__all__ = [
    "BacktestResult",
    "CaisseRule",
    "DemandBuild",
    "ForecastParams",
    "OrderCheckParams",
    "WhatIf",
    "backtest",
    "build_weekly_demand",
    "caisse_ledger",
    "forecast_demand",
    "hub_demand",
    "parse_rule",
]
