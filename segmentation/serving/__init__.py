"""The serving side: what readers of the warehouse get, after a build.

:mod:`.publish` swaps a whole finished build in at once (readers never see half a build);
:mod:`.exports` writes the Parquet files BI tools read; :mod:`.report` renders the HTML
report; :mod:`.query` runs read-only SQL on the published warehouse. Reads tables; imports
neither the fit nor the scoring side.
"""
