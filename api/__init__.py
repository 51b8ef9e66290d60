"""Interfaces: the pipeline that chains demand, planner and routing; the CLI; the HTTP app."""
