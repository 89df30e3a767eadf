"""Parameter sweeps: many runs of one job over a grid of link and TCP settings and seeds.

- :mod:`.spec` reads a sweep file (TOML) into the list of its cells, each a plain dict;
- :mod:`.cell` runs one cell (the same function on the local process pool and on Dask);
- :mod:`.runner` runs the cells where asked, with a cache of the done ones and a progress bar;
- :mod:`.table` writes the rows as CSV and Parquet and summarises them over seeds;
- :mod:`.plot` draws a figure of the table (medians and spread, the Mathis curve for TCP).
"""
