"""The scoring side: apply a stored model version; never fits anything.

A fitted version is plain numbers in the registry (:mod:`.registry`), loaded as a
:class:`~segmentation.scoring.model.SegmentModel` (:mod:`.model`, which also holds the
numpy reference scoring). :mod:`.sql` renders it as one SQL select that the database runs
over every customer, so no step holds all customers in Python; :mod:`.relations` (DuckDB)
and :mod:`.spark` (Spark SQL) hand that SQL to the per-customer dbt models. Imports only
the shared modules of :mod:`segmentation`; the fit side (:mod:`segmentation.fit`) imports
this one, never the other way round.
"""
