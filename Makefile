# kasse: make demo runs a simulated register against the built-in Vipps
# simulator; make test runs every test. Nothing else needs setting up.

SHELL   := /bin/bash
GO      ?= go
BIN     := bin
PKGS    := ./...
DEMO    ?= $(CURDIR)/demo
SIMADDR ?= 127.0.0.1:8089

.PHONY: demo-hq all build test bench demo cross vet fmt-check clean soak soak-short test-arm fuzz golden \
	buildroot-check image bundle

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/kassed ./cmd/kassectl ./cmd/vippssim ./cmd/kassehq

# The tests need nothing beyond Go, and xmllint (Debian's libxml2-utils,
# installed when missing) to validate the SAF-T export against the Tax
# Administration's XSD: QR codes are decoded with gozxing, the printer is a
# real pty, the database a real file, Vipps the simulator.
test:
	@command -v xmllint >/dev/null || { echo "installing libxml2-utils (xmllint)"; (apt-get update -qq && apt-get install -y -qq libxml2-utils) >/dev/null || \
	    sudo sh -c 'apt-get update -qq && apt-get install -y -qq libxml2-utils' >/dev/null; }
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# One figure a line: name value unit. Scenario benchmarks (whole sales,
# large databases) run once and report their own figures; micro benchmarks
# run for the usual second.
SCENARIO_PKGS := ./cmd/... ./store/...
MICRO_PKGS    := ./display/... ./printer/... ./payment/... ./money/... ./till/... ./journal/...
# BenchmarkFsyncsPerSale counts syncs with strace (installed from Debian
# when missing). KASSE_BENCH_SALES sets the size of the large journals
# (default 1,000,000; CI uses 100,000).
bench:
	@command -v strace >/dev/null || { echo "installing strace"; (apt-get update -qq && apt-get install -y -qq strace) >/dev/null || \
	    sudo sh -c 'apt-get update -qq && apt-get install -y -qq strace' >/dev/null; }
	@set -o pipefail; $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 90m $(SCENARIO_PKGS) 2>&1 | $(GO) run ./cmd/internal/benchfmt
	@set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 1 $(MICRO_PKGS) 2>&1 | $(GO) run ./cmd/internal/benchfmt
	@# Signing on ARMv6 (the Pi Zero's instruction set) under qemu-user:
	@# an upper bound, qemu is slower than the Pi.
	@command -v qemu-arm-static >/dev/null || { echo "installing qemu-user-static"; (apt-get update -qq && apt-get install -y -qq qemu-user-static) >/dev/null || \
	    sudo sh -c 'apt-get update -qq && apt-get install -y -qq qemu-user-static' >/dev/null; }
	@set -o pipefail; GOARCH=arm GOARM=6 $(GO) test -run '^$$' -bench '^BenchmarkSign$$' -count 1 -exec qemu-arm-static ./journal/ 2>&1 | \
	  $(GO) run ./cmd/internal/benchfmt | sed 's/^sign_us /sign_us_qemu_armv6 /; s/^Sign /Sign_qemu_armv6 /'

# Rewrites the golden files from the code as it is now; review with git
# diff before you commit, the tests compare them exactly:
# display/testdata/golden (every screen, every language, TFT and OLED) and
# printer/receipt/testdata/golden (every receipt kind for 32, 42 and 48
# columns in Norwegian and English) and journal/report/testdata/golden (X
# and Z reports, Norwegian, 32, 42 and 48 columns).
golden:
	$(GO) test -count=1 -run '^TestGolden$$' ./display/ -update
	$(GO) test -count=1 -run '^TestGolden$$' ./printer/receipt/ -update
	$(GO) test -count=1 -run '^TestGolden$$' ./journal/report/ -update
	@git status --short display/testdata/golden printer/receipt/testdata/golden journal/report/testdata/golden

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
	./till:FuzzTill \
	./vippsid:FuzzAgreesWithThePatterns
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; echo "== fuzz $$name ($$pkg, $(FUZZTIME))"; \
	  GO=$(GO) .ci/fuzz-one $$pkg $$name $(FUZZTIME) $(FUZZ_FLAGS); done

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

# The register's image, built by Buildroot from the BR2_EXTERNAL tree in
# buildroot/ (buildroot/README.md). BUILDROOT is a Buildroot checkout,
# 2025.02.16 or newer (its Go must be at least go.mod's); BOARD is rpi4_64,
# rpi3 or rpi0w. The build output stays out of the repository.
BOARD  ?= rpi4_64
BR_OUT ?= $(HOME)/.cache/kasse/buildroot/$(BOARD)
BR_MAKE = $(MAKE) -C $(BUILDROOT) O=$(BR_OUT)
define need-buildroot
	@test -n "$(BUILDROOT)" -a -f "$(BUILDROOT)/Makefile" || { echo "give BUILDROOT=dir, a Buildroot checkout (buildroot/README.md)"; exit 2; }
endef

# No downloads: Buildroot's check-package and the defconfig round trips,
# then the Ansible playbook's syntax check.
buildroot-check:
	$(need-buildroot)
	buildroot/check.sh $(BUILDROOT)
	buildroot/ansible/check.sh

# sdcard.img where Buildroot and its downloads (and the Go module proxy)
# are reachable. KEYRING=ca.pem: the certificate bundles are signed with;
# AUTHORIZED_KEYS=file: root's SSH keys. Without them the image refuses
# every bundle and every SSH login.
image:
	$(need-buildroot)
	$(BR_MAKE) BR2_EXTERNAL=$(CURDIR)/buildroot kasse_$(BOARD)_defconfig
	$(if $(KEYRING),$(BUILDROOT)/utils/config --file $(BR_OUT)/.config --set-str BR2_KASSE_RAUC_KEYRING $(abspath $(KEYRING)))
	$(if $(AUTHORIZED_KEYS),$(BUILDROOT)/utils/config --file $(BR_OUT)/.config --set-str BR2_KASSE_AUTHORIZED_KEYS $(abspath $(AUTHORIZED_KEYS)))
	$(BR_MAKE) olddefconfig
	$(BR_MAKE)
	@echo "image: $(BR_OUT)/images/sdcard.img"

# A signed update bundle from the last make image: make bundle
# BUILDROOT=dir BOARD=rpi4_64 VERSION=1.4.0 CERT=signer.pem KEY=signer.key
# (KEY may be a PKCS#11 URI). Uses Buildroot's host rauc.
bundle:
	$(need-buildroot)
	@test -n "$(VERSION)" -a -n "$(CERT)" -a -n "$(KEY)" || { echo "give VERSION=, CERT= and KEY="; exit 2; }
	PATH="$(BR_OUT)/host/bin:$$PATH" buildroot/bundle.sh --cert $(CERT) --key $(KEY) \
	  --compatible $$(sed -n 's/^BR2_KASSE_RAUC_COMPATIBLE="\(.*\)"$$/\1/p' $(BR_OUT)/.config) \
	  --version $(VERSION) $(BR_OUT)/images/rootfs.ext4 $(BR_OUT)/images/kasse-$(BOARD)-$(VERSION).raucb

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
	  'tax_rate = 2500' \
	  '[[keys.cashiers]]' \
	  'id = "1"' \
	  'name = "Demo"' \
	  'pin_hash = "$$argon2id$$v=19$$m=19456,t=2,p=1$$Wh2vun1HQQcgfDVTC67aIg$$uVr/TPkVAMAy3ZLfehwZtcLNqyJMph3jyaUtXf0YwDU"' \
	  'supervisor = true' > $(DEMO)/kassed.toml
	@chmod 640 $(DEMO)/kassed.toml
	@printf '%s\n' \
	  'client_id = "0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"' \
	  'client_secret = "demo-client-secret"' \
	  'subscription_key = "demo-subscription-key"' > $(DEMO)/secrets.toml
	@chmod 600 $(DEMO)/secrets.toml
	@$(BIN)/kassectl keygen --key $(DEMO)/signing-key.pem
	@echo "kasse demo in $(DEMO)"
	@echo "  log in:           $(BIN)/kassectl --data $(DEMO)/data key 1 pay 1 2 3 4 pay   (cashier 1, PIN 1234, also the supervisor)"
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

# Option B beside make demo: kassehq and a second register (store DEMO2,
# its own sales unit) that refunds DEMO1 through it; run while make demo
# VIPPSSIM_FLAGS="--unit 222222" runs.
demo-hq: build
	hq/demo-hq.sh $(BIN) $(DEMO) $(SIMADDR)

clean:
	rm -rf $(BIN) $(DEMO)
