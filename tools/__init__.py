"""Repository tools: data builders and the synthetic-data generator (not installed with the package)."""
