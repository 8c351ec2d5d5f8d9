"""Build, evaluation and benchmark scripts of geo_idlib (not part of the installed package).

Run each from the repository root as a module, e.g. ``.venv/bin/python -m scripts.eval_places``;
`make data`, `make eval`, `make bench` and `make readme-img` do. Helpers two scripts share are
public functions of a shared module: :mod:`scripts.common` (paths, the runner, workers, memory),
:mod:`scripts.corpora` (the evaluation corpora of ../shared), :mod:`scripts.boundary_sources`
(the pinned npm packages behind shapefiles/) and :mod:`scripts.topojson` (a TopoJSON decoder).
"""
