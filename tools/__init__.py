"""Repository tools, run from a checkout: the municipality list's builder and the synthetic-data generator.

Not installed with the package (pyproject.toml lists portal, tenants and
dashboard only), so production never has them; create_app adds the ``synth``
command only outside production.
"""
