"""MILP crop and supply planning for producer partnerships."""
