#!/usr/bin/env python3
"""The peer for scripts/bench.sh: DuckDB reads a kblame trace (zstd NDJSON) and keeps the
records of one object by name -- a filter only, no analysis.

Usage: duckdb_filter.py TRACE NAME
Prints the number of records and the query's own time on stderr.
"""
import sys
import time

import duckdb


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    trace, name = sys.argv[1], sys.argv[2]
    compression = "zstd" if trace.endswith(".zst") else "auto"
    started = time.perf_counter()
    connection = duckdb.connect()
    rows = connection.execute(
        "SELECT json FROM read_ndjson_objects(?, compression = ?) "
        "WHERE json_extract_string(json, '$.object.metadata.name') = ?",
        [trace, compression, name],
    ).fetchall()
    elapsed = time.perf_counter() - started
    print(f"duckdb: {len(rows)} records of {name} in {elapsed:.2f} s", file=sys.stderr)
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
