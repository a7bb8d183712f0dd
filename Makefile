# Nimbus — every set-up step a fresh Debian 12 machine with the Swift toolchain needs.
#   make demo   build, bring up a one-node sandbox host and prepare it for an all-in-one cloud
#   make test   lint, build and run every test
#   make bench  benchmarks (bench/RESULTS.md records their figures)

SWIFT      ?= swift
APT_STAMP  := .build/.apt-stamp
# Debian packages the build, the tests and the benchmarks need.
APT_PACKAGES := git pkg-config hyperfine debootstrap systemd-container dpkg-dev openssh-client iproute2 util-linux kmod libssh2-1-dev python3-venv
# The tools the deploy benchmark compares against, from PyPI into .venv.
BENCH_PYPI   := ansible-core==2.19.14 pyinfra==3.10.0

.PHONY: all build release test unit integration lint format docs demo bench bench-tools deps clean

all: build

deps: $(APT_STAMP)

$(APT_STAMP): Makefile
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root (or install:$$missing)"; exit 1; fi; \
	  apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq $$missing >/dev/null; \
	fi
	@mkdir -p $(dir $@) && touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product nimbus

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Package.swift

docs: build
	$(SWIFT) run --skip-build nimbus docs answer-file > docs/answer-file.md

unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest 2>&1 | tee .build/unit-tests.log
	@grep -q "Test run with .* passed" .build/unit-tests.log

# Integration tests drive the built nimbus on real sandbox nodes: root only.
integration: deps
	$(SWIFT) build --build-tests
	NIMBUS_INTEGRATION=1 $(SWIFT) test --skip-build --disable-xctest --filter NimbusIntegrationTests 2>&1 \
	  | tee .build/integration-tests.log
	@grep -q "Test run with .* passed" .build/integration-tests.log

test: lint unit integration
	@unit=$$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} in .* passed.*/\1/p' .build/unit-tests.log | tail -n 1); \
	integ=$$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} in .* passed.*/\1/p' .build/integration-tests.log | tail -n 1); \
	echo "$$(( $${unit:-0} + $${integ:-0} )) passed, 0 failed"

# The demo has a sandbox of its own ("demo", on 10.253/10.254), beside any other.
DEMO := --name demo
demo: build
	$(SWIFT) run --skip-build nimbus sandbox up $(DEMO) --nodes 1 --answer-file demo-answers.txt \
	  --management-network 10.253.0.0/24 --provider-network 10.254.0.0/24
	$(SWIFT) run --skip-build nimbus deploy demo-answers.txt
	$(SWIFT) run --skip-build nimbus sandbox ssh $(DEMO) node1 "ip -br addr show br-ex; sed -n '/BEGIN NIMBUS/,/END NIMBUS/p' /etc/hosts; chronyc -n tracking | head -3"
	@echo
	@echo "node1 is prepared for an all-in-one cloud (chrony, firewall, /etc/hosts, sysctls, br-ex)."
	@echo "Run 'nimbus deploy demo-answers.txt' again: 0 changed. The bundled services arrive with the"
	@echo "next issues. Reach the node: nimbus sandbox ssh --name demo node1."
	@echo "Remove it: nimbus sandbox down --name demo --purge"

bench-tools: deps
	@[ -x .venv/bin/pyinfra ] && [ -x .venv/bin/ansible-playbook ] || { python3 -m venv .venv && .venv/bin/pip install -q $(BENCH_PYPI); }

bench: release bench-tools
	bench/validate-plan.sh
	bench/sandbox-up.sh
	bench/deploy.sh

clean:
	rm -rf .build
