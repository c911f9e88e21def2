# make demo: set up .venv, build a small dataset, train, test, export and predict end to end.
# make test: set up .venv and run the whole test suite.
# make test-quick: the suite without the tests marked slow (under a minute).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test test-quick demo bench clean

venv: $(STAMP)

$(STAMP): setup.py requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import paddle" 2>/dev/null || $(PY) -m pip install -q "paddlepaddle>=3.0"
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q -e . --no-deps
	touch $(STAMP)

test: venv
	$(PY) -m pytest -q --durations=15 tests

test-quick: venv
	$(PY) -m pytest -q --durations=10 -m "not slow" tests

demo: venv
	$(PY) tools/demo.py

bench: venv
	$(PY) benchmarks/bench_pipeline.py
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_predict.py

clean:
	rm -rf $(VENV) output inference data/demo .pytest_cache
