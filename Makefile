# Outpost: what a newcomer types. Meson + Ninja do the real work.
#   make          build (build/)
#   make run      install missing packages (as root), build, start a server
#                 on loopback with examples/ as its configuration (run/)
#   make test     unit tests (plain and ASan+UBSan builds), fuzz targets over
#                 their seeds, end-to-end tests; last line "N passed, N failed"
#   make bench    benchmarks side by side with Postfix (bench/RESULTS.md)
#   make fuzz     every libFuzzer target for FUZZ_SECONDS each
#   make install  into PREFIX (default /usr/local), DESTDIR honoured
#   make clean    remove build directories
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
TEST_FUZZ_SECONDS ?= 3
PY := /usr/bin/python3

BUILD := build
ASAN := build-asan
FUZZ := build-fuzz

.PHONY: all deps build build-asan build-fuzz run test bench fuzz install clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) -Dfuzz=true -Dtests=disabled -Dwerror=false \
		-Db_lundef=false -Dbuildtype=debug

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)

build-fuzz: deps $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

run: build
	scripts/run.sh

test: build build-asan build-fuzz
	$(PY) tests/run_tests.py --build $(BUILD) --build $(ASAN) \
		--fuzz-build $(FUZZ) --fuzz-seconds $(TEST_FUZZ_SECONDS) --fuzz-seed 1 \
		--e2e-build $(ASAN)

bench: build
	@scripts/deps.sh scripts/packages.txt scripts/packages-bench.txt
	bench/run.sh

fuzz: build-fuzz
	$(PY) tests/run_tests.py --fuzz-build $(FUZZ) --fuzz-seconds $(FUZZ_SECONDS)

install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR))

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
