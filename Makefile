# kasse: make demo runs a simulated register against the built-in Vipps
# simulator; make test runs every test. Nothing else needs setting up.

SHELL   := /bin/bash
GO      ?= go
BIN     := bin
PKGS    := ./...
DEMO    ?= $(CURDIR)/demo
SIMADDR ?= 127.0.0.1:8089

.PHONY: all build test bench demo cross vet fmt-check clean soak soak-short test-arm fuzz golden

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/kassed ./cmd/kassectl ./cmd/vippssim

# The tests need nothing beyond Go: QR codes are decoded with gozxing, the
# printer is a real pty, the database a real file, Vipps the simulator.
test:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

# Rewrites the golden text renderings of every receipt kind (sale, copy,
# refund slip) for 32, 42 and 48 columns in Norwegian and English, in
# printer/receipt/testdata/golden. Review the diff before committing.
golden:
	$(GO) test ./printer/receipt/ -run '^TestGolden$$' -count=1 -update
	@git status --short printer/receipt/testdata/golden

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# One figure a line: name value unit. Scenario benchmarks (whole sales,
# large databases) run once and report their own figures; micro benchmarks
# run for the usual second.
SCENARIO_PKGS := ./cmd/... ./store/...
MICRO_PKGS    := ./display/... ./printer/... ./payment/... ./money/...
# BenchmarkFsyncsPerSale counts syncs with strace (installed from Debian
# when missing). KASSE_BENCH_SALES sets the size of the large journals
# (default 1,000,000; CI uses 100,000).
bench:
	@command -v strace >/dev/null || { echo "installing strace"; (apt-get update -qq && apt-get install -y -qq strace) >/dev/null || \
	    sudo sh -c 'apt-get update -qq && apt-get install -y -qq strace' >/dev/null; }
	@set -o pipefail; $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 $(SCENARIO_PKGS) 2>&1 | $(GO) run ./cmd/internal/benchfmt
	@set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 1 $(MICRO_PKGS) 2>&1 | $(GO) run ./cmd/internal/benchfmt

# Every fuzz target, package:name, one a line: whatever reads untrusted
# bytes. make fuzz runs each for FUZZTIME, one after another; a failing
# input lands in the package's testdata/fuzz (commit it only as a
# deliberate regression test). FUZZ_FLAGS=-parallel=1 spares the CPU.
FUZZTIME   ?= 10s
FUZZ_FLAGS ?=
FUZZ_TARGETS := \
	./cmd/internal/control:FuzzHandler \
	./cmd/internal/config:FuzzLoad \
	./cmd/internal/config:FuzzLoadSecrets \
	./device:FuzzParseKey \
	./payment/vipps:FuzzEPaymentReply \
	./payment/vipps:FuzzECommReply \
	./payment/vipps:FuzzErrorReply \
	./payment/vipps:FuzzTokenReply \
	./payment/vipps:FuzzQRImage \
	./payment:FuzzQuoteScan \
	./printer/escpos:FuzzDecode \
	./printer/escpos:FuzzBuilder \
	./printer/receipt:FuzzEncode \
	./store:FuzzReadArchive \
	./store:FuzzRecord \
	./store:FuzzReference \
	./vippsid:FuzzAgreesWithThePatterns
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; echo "== fuzz $$name ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZ_FLAGS) $$pkg; done

# The soak harness: real kassed and vippssim processes, SIGKILLs and network
# faults, then a check against the simulator's truth. SEED=N replays a run.
SOAK_FLAGS ?= $(if $(SEED),-seed $(SEED))
soak:
	$(GO) run ./cmd/internal/soak -duration 43m -long $(SOAK_FLAGS)
soak-short:
	$(GO) run ./cmd/internal/soak -duration 150s $(SOAK_FLAGS)

# The store's tests on 64- and 32-bit ARM under qemu-user (installed from
# Debian when missing).
test-arm:
	@command -v qemu-aarch64-static >/dev/null && command -v qemu-arm-static >/dev/null || \
	  { echo "installing qemu-user-static"; (apt-get update -qq && apt-get install -y -qq qemu-user-static) >/dev/null || \
	    sudo sh -c 'apt-get update -qq && apt-get install -y -qq qemu-user-static' >/dev/null; }
	GOARCH=arm64 $(GO) test -count=1 -short -exec qemu-aarch64-static ./store/ ./money/
	GOARCH=arm GOARM=6 $(GO) test -count=1 -short -exec qemu-arm-static ./store/ ./money/

cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -o $(BIN)/arm64/ ./cmd/kassed ./cmd/kassectl
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -o $(BIN)/armv7/ ./cmd/kassed ./cmd/kassectl
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 $(GO) build -o $(BIN)/armv6/ ./cmd/kassed ./cmd/kassectl

# A register with simulated hardware against vippssim, in $(DEMO).
demo: build
	@rm -rf $(DEMO) && mkdir -p $(DEMO) && chmod 750 $(DEMO)
	@printf '%s\n' \
	  'data_dir = "data"' \
	  '[vipps]' \
	  'base_url = "http://$(SIMADDR)"' \
	  'msn = "123456"' \
	  'currency = "NOK"' \
	  'secrets_file = "secrets.toml"' \
	  'payment_description = "Kjøp i Demobutikken"' \
	  '[store]' \
	  'prefix = "DEMO1"' \
	  'lane = "1"' \
	  'name = "Demobutikken"' \
	  'org_number = "987 654 325"' \
	  'lines = ["Storgata 1, 0155 Oslo"]' \
	  'tax_rate = 2500' > $(DEMO)/kassed.toml
	@chmod 644 $(DEMO)/kassed.toml
	@printf '%s\n' \
	  'client_id = "0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"' \
	  'client_secret = "demo-client-secret"' \
	  'subscription_key = "demo-subscription-key"' > $(DEMO)/secrets.toml
	@chmod 600 $(DEMO)/secrets.toml
	@echo "kasse demo in $(DEMO)"
	@echo "  key a sale:       $(BIN)/kassectl --data $(DEMO)/data key 1 2 5 0 0 pay"
	@echo "  see the display:  $(BIN)/kassectl --data $(DEMO)/data screen --png screen.png"
	@echo "  the shopper pays: curl -X POST http://$(SIMADDR)/vippssim/payments/REFERENCE/approve"
	@echo "                    (REFERENCE from: $(BIN)/kassectl --data $(DEMO)/data status)"
	@echo "  the receipt:      $(BIN)/kassectl receipt $(DEMO)/data/receipt.escpos"
	@echo "  sale log:         $(BIN)/kassectl --data $(DEMO)/data journal"
	@echo "  Ctrl-C stops both."
	@trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	  VIPPSSIM_CLIENT_ID=0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b $(BIN)/vippssim --listen $(SIMADDR) --msn 123456 \
	    --client-secret demo-client-secret --subscription-key demo-subscription-key $(VIPPSSIM_FLAGS) & sim=$$!; \
	  sleep 0.5; $(BIN)/kassed --config $(DEMO)/kassed.toml --sim

clean:
	rm -rf $(BIN) $(DEMO)
