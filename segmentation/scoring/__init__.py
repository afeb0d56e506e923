"""The scoring side: apply a stored model version; never fits anything.

A fitted version is plain numbers in the registry (:mod:`.registry`), loaded as a
:class:`~segmentation.scoring.model.SegmentModel` (:mod:`.model`). :mod:`.sql` renders
it as one portable SQL select that the engine (:mod:`segmentation.engines`: DuckDB or
Spark) runs over every customer, so no step holds all customers in Python; :mod:`.tables`
hands that SQL to the per-customer dbt models, :mod:`.transitions` compares two
versions. Imports the engines and the shared modules; the fit side
(:mod:`segmentation.fit`) imports this one, never the other way round.
"""
