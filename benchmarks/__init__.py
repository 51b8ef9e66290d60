"""Quality and speed runs of vivres (``vivres bench ...``); see benchmarks/README.md."""
