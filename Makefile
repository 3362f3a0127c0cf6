# The two commands of the README: `make demo` and `make test`.
# Both set up .venv/ first (scripts/setup_venv.sh: fast when nothing changed).
PY := .venv/bin/python
# Keep DDS traffic on this machine; each test run picks its own domain id.
ROS_ENV := ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST

.PHONY: demo test setup clean

setup:
	scripts/setup_venv.sh

demo:
	scripts/setup_venv.sh
	$(ROS_ENV) $(PY) -m lfm3d_ros.demo $(DEMO_ARGS)

test:
	scripts/setup_venv.sh --dev
	$(ROS_ENV) ROS_DOMAIN_ID=$${ROS_DOMAIN_ID:-$$(( $$$$ % 90 + 10 ))} $(PY) -m pytest -q tests

# Removes the CMake build dir and caches; keeps .venv/ (rm -rf .venv for a cold start).
clean:
	rm -rf build install log .pytest_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +
