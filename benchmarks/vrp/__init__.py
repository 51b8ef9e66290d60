"""The benchmark-only VRP stack: CVRPLIB / Solomon instances and a PyVRP + OR-Tools portfolio.

``vivres bench routing`` measures solver quality on plain CVRP and VRPTW instances with it.
The week's routes do not use it: they are a pickup-and-delivery problem with several depots,
time windows, breaks and vehicle restrictions, solved by :mod:`routing._ortools`. PyVRP and
vrplib come with the ``[bench]`` extra (``pip install -e ".[bench]"``, also in ``[dev]``).
"""
