"""The scoring side: a stored model version rendered as SQL that the engine runs.

Fitting happens in Python on seeded samples (:mod:`segmentation.registry`); every
per-customer result is computed by the database from SQL rendered here
(:mod:`segmentation.scoring.sql`), so no step holds all customers in Python.
"""
