# Two commands from a fresh clone: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test setup assets bench clean

run: setup
	@$(BIN)/streamdesk run

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench

setup: $(STAMP) assets

# Reinstalled whenever setup.cfg or pyproject.toml change (entry points are read at install time).
$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	@echo "Installing Streamdesk into $(VENV) (once; a minute or two)…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,postgres]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Quiet when all is well: errors still reach the terminal (stderr).
assets: $(STAMP)
	@$(BIN)/streamdesk install-assets > /dev/null

clean:
	rm -rf $(VENV) webapp/static/vendor *.egg-info
