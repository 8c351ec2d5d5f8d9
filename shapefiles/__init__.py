"""The embedded layers and sample data, shipped inside geo_idlib as ``geo_idlib.shapefiles``.

Nothing to import: geo_idlib reads these files through ``geo_idlib.io.shapefiles_dir()``
(importlib.resources), in a wheel and in an editable install alike. See PROVENANCE.md.
"""
