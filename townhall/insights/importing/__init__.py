"""Historical import of past requests into `CaseFact` (`townhall import cases`).

`readers` turn each source format into rows, `mapping` maps the source's service names
to the council's catalogue, `loader` writes chunks (PostgreSQL COPY, bulk_create
elsewhere) with a committed `ImportRun` checkpoint per chunk. docs/import.md.
"""
