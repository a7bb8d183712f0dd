# Nimbus — every set-up step a fresh Debian 12 machine with the Swift toolchain needs.
#   make demo   build, bring up a one-node sandbox host and show the all-in-one plan for it
#   make test   lint, build and run every test
#   make bench  benchmarks (bench/RESULTS.md records their figures)

SWIFT      ?= swift
APT_STAMP  := .build/.apt-stamp
# Debian packages the build, the tests and the benchmarks need.
APT_PACKAGES := git pkg-config hyperfine debootstrap systemd-container dpkg-dev openssh-client iproute2 util-linux kmod libssh2-1-dev

.PHONY: all build release test unit integration lint format docs demo bench deps clean

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

demo: build
	$(SWIFT) run --skip-build nimbus sandbox up --nodes 1 --answer-file sandbox-answers.txt
	$(SWIFT) run --skip-build nimbus validate sandbox-answers.txt
	$(SWIFT) run --skip-build nimbus plan sandbox-answers.txt
	$(SWIFT) run --skip-build nimbus sandbox ssh node1 "hostname; systemctl is-system-running; chronyc -n tracking | head -3"
	@echo
	@echo "A one-node sandbox is up (nimbus sandbox ssh node1), with the all-in-one plan for it above."
	@echo "Deployment (SSH rollout, services) arrives with the next issues; until then"
	@echo "'nimbus deploy' shows the plan and changes nothing. Remove the sandbox: nimbus sandbox down --purge"

bench: release
	bench/validate-plan.sh
	bench/sandbox-up.sh

clean:
	rm -rf .build
