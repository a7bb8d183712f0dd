# Nimbus — every set-up step a fresh Debian 12 machine with the Swift toolchain needs.
#   make demo   build, bring up a one-node sandbox host and deploy an all-in-one cloud on it
#   make test   lint, build and run every test
#   make bench  benchmarks (bench/RESULTS.md records their figures)

SWIFT      ?= swift
APT_STAMP  := .build/.apt-stamp
# Debian packages the build, the tests and the benchmarks need.
APT_PACKAGES := git curl pkg-config hyperfine debootstrap systemd-container dpkg-dev openssh-client iproute2 util-linux kmod libssh2-1-dev libvirt-dev python3-venv qemu-utils openssl wrk rsync nftables dnsmasq-base dnsmasq-utils conntrack iputils-arping iputils-ping busybox netcat-openbsd genisoimage binutils cpio dosfstools fakeroot fdisk mtools qemu-system-x86
# The tools the deploy benchmark compares against, from PyPI into .venv.
BENCH_PYPI   := ansible-core==2.19.14 pyinfra==3.10.0
# Real Keystone, the identity benchmark's anchor, in a venv of its own (.venv-keystone).
KEYSTONE_PYPI := keystone==30.0.0 gunicorn==27.0.1
# The stock OpenStack and Swift clients the tests and the demo use, from PyPI into .venv.
CLIENT_PYPI  := python-openstackclient==10.5.0 python-swiftclient==4.11.0
# Tempest, run by the integration suite against the sandbox cloud (.venv-tempest).
TEMPEST_PYPI := tempest==47.0.0
# OpenStack Swift, the object storage benchmark's anchor (.venv-swift).
SWIFT_PYPI   := swift==2.38.3
# nimbus-server as shipped to hosts: release, static Swift runtime, its own build folder.
SERVER_BIN   := .build-server/release/nimbus-server
AGENT_BIN := .build-server/release/nimbus-agent

.PHONY: all build release server clients test unit integration lint format docs demo bench bench-tools deps clean guest-image

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

server: deps
	$(SWIFT) build --scratch-path .build-server -c release --static-swift-stdlib --product nimbus-server -Xlinker -s
	$(SWIFT) build --scratch-path .build-server -c release --static-swift-stdlib --product nimbus-agent -Xlinker -s

clients:
	@[ -x .venv/bin/openstack ] && [ -x .venv/bin/swift ] || { [ -x .venv/bin/python ] || python3 -m venv .venv; .venv/bin/pip install -q $(CLIENT_PYPI); }
	@[ -x .venv-tempest/bin/tempest ] || { python3 -m venv .venv-tempest && .venv-tempest/bin/pip install -q $(TEMPEST_PYPI); }

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Package.swift

docs: build
	$(SWIFT) run --skip-build nimbus docs answer-file > docs/answer-file.md

# Each run's log ends with swift test's exit status; Tests/counts.sh counts it from
# Swift Testing's own lines (passed, failed, skipped) and fails when anything failed.
UNIT_LOG  := .build/unit-tests.log
INTEG_LOG := .build/integration-tests.log

unit: deps
	@rm -f $(UNIT_LOG)
	$(SWIFT) build --build-tests
	{ $(SWIFT) test --skip-build --disable-xctest --skip NimbusIntegrationTests 2>&1; s=$$?; echo; echo "swift test exited with status $$s"; } \
	  | tee $(UNIT_LOG)
	@Tests/counts.sh $(UNIT_LOG)

# The guest image the integration tests boot (built by the guest-image target below).
GUEST_IMAGE := .build/guest-image/nimbus-guest.qcow2

# Integration tests drive the built nimbus on real sandbox nodes: root only.
integration: deps server clients $(GUEST_IMAGE)
	@rm -f $(INTEG_LOG)
	$(SWIFT) build --build-tests
	{ NIMBUS_INTEGRATION=1 NIMBUS_SERVER_BINARY=$(CURDIR)/$(SERVER_BIN) NIMBUS_AGENT_BINARY=$(CURDIR)/$(AGENT_BIN) OPENSTACK=$(CURDIR)/.venv/bin/openstack \
	  NIMBUS_GUEST_IMAGE=$(CURDIR)/$(GUEST_IMAGE) \
	  SWIFT_CLIENT=$(CURDIR)/.venv/bin/swift TEMPEST=$(CURDIR)/.venv-tempest/bin/tempest \
	  $(SWIFT) test --skip-build --disable-xctest --filter NimbusIntegrationTests 2>&1; s=$$?; echo; echo "swift test exited with status $$s"; } \
	  | tee $(INTEG_LOG)
	@Tests/counts.sh $(INTEG_LOG)

# Both runs, whatever the first gives; the last line counts them together, and in CI
# (CI=true) a skipped test counts as failed.
test: lint
	@rm -f $(UNIT_LOG) $(INTEG_LOG)
	@$(MAKE) --no-print-directory unit || true
	@$(MAKE) --no-print-directory integration || true
	@Tests/counts.sh $(UNIT_LOG) $(INTEG_LOG)

# The demo has a sandbox of its own ("demo", on 10.253/10.254), beside any other. The
# deploy provisions Packstack's demo (public, private, router1, cirros, flavors,
# keystonerc_demo); scripts/demo-instance.sh boots demo-vm with a floating IP on it.
DEMO := --name demo
demo: build server clients $(GUEST_IMAGE)
	$(SWIFT) run --skip-build nimbus sandbox up $(DEMO) --nodes 1 --answer-file demo-answers.txt \
	  --management-network 10.253.0.0/24 --provider-network 10.254.0.0/24
	NIMBUS_SERVER_BINARY=$(CURDIR)/$(SERVER_BIN) NIMBUS_AGENT_BINARY=$(CURDIR)/$(AGENT_BIN) NIMBUS_GUEST_IMAGE=$(CURDIR)/$(GUEST_IMAGE) \
	  $(SWIFT) run --skip-build nimbus deploy demo-answers.txt
	OPENSTACK=$(CURDIR)/.venv/bin/openstack scripts/demo-instance.sh .
	@echo
	@echo "The cloud on sandbox node1 (10.253.0.11) is up, demo-vm runs on it. Use it:"
	@echo "  . .venv/bin/activate && . ./keystonerc_admin && openstack server list --all-projects"
	@echo "  (. ./keystonerc_demo for the demo project: its private network, router1, demo-vm)"
	@echo "Check it: nimbus status demo-answers.txt   (the binary: .build/debug/nimbus)"
	@echo "Reach the node: nimbus sandbox ssh --name demo node1"
	@echo "Remove it: nimbus sandbox down --name demo --purge"

# The guest image the compute service boots (docs/guest-image.md): Debian packages only,
# fetched once into .build/guest-image/debs; rebuilt when its recipe changes.
# templates/guest-image/boot-test.sh boots it under QEMU/TCG and prints the timings.
guest-image: $(GUEST_IMAGE)

$(GUEST_IMAGE): $(filter-out %/boot-test.sh,$(shell find templates/guest-image -type f 2>/dev/null)) | $(APT_STAMP)
	templates/guest-image/build.sh $@

bench-tools: deps
	@[ -x .venv/bin/pyinfra ] && [ -x .venv/bin/ansible-playbook ] || { python3 -m venv .venv && .venv/bin/pip install -q $(BENCH_PYPI); }
	@[ -x .venv-keystone/bin/keystone-manage ] || { python3 -m venv .venv-keystone && .venv-keystone/bin/pip install -q $(KEYSTONE_PYPI); }
	@[ -x .venv-swift/bin/swift-proxy-server ] || { python3 -m venv .venv-swift && .venv-swift/bin/pip install -q $(SWIFT_PYPI); }
	@command -v memcached >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq memcached bc >/dev/null

bench: release server bench-tools clients $(GUEST_IMAGE)
	bench/validate-plan.sh
	bench/sandbox-up.sh
	bench/deploy.sh
	bench/cloud-deploy.sh
	bench/identity.sh
	bench/object.sh
	bench/network.sh
	bench/compute.sh
	bench/block-storage.sh
	bench/demo.sh

clean:
	rm -rf .build
