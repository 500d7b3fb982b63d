# The two commands of the README: `make demo` (the seed ledger and its overview) and `make test`.
# Both install the system libraries first when they are missing (Debian: libsqlite3-dev, liblz4-dev;
# the tests also use the stock sqlite3 and lz4 tools and python3, as an auditor would).

SWIFT ?= swift
APT_PACKAGES = libsqlite3-dev liblz4-dev sqlite3 lz4 python3

.PHONY: demo test deps build release bench

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: build
	$$($(SWIFT) build --show-bin-path)/kopa demo

test: deps
	$(SWIFT) test

bench: release
	./scripts/bench.sh
