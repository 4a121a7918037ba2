"""Mocked agency registries: real HTTP services over a seeded synthetic population.

They live apart from ``connectors`` so that a connector only knows a registry's API. Each registry
has its own API shape (paths, credential header, paging, error format, field names) like the real
agencies do; the population carries ground truth (who really owns each record) that never leaves
this package over HTTP.

- ``records``: the record types every registry holds, and the registries' light name normalisation.
- ``population``: the synthetic population and its hard cases; labelled pairs for linkage.
- ``fixtures``: records planted from ``HUB_REGISTRY_FIXTURES``.
- ``store``: per-registry search indexes.
- ``api`` and one module per agency type (``police``, ``commerce``, ``real_estate``, ``land``,
  ``securities``, ``bank``), each defining ``<Type>Api`` (see ``schemas.agencies``).
- ``app``: the FastAPI app of one registry, with fault knobs; ``server``: run them all.
"""
