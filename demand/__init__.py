"""Weekly demand from grocery orders and caisse spending; the caisse ledger; forecasts."""
