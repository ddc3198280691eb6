"""tslake: an incremental local copy of Tushare Pro data, kept as Parquet parts with a DuckDB catalog."""

__version__ = "0.1.0"
