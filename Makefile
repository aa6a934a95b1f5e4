# The two commands of the quick start, and a few for developers.
#
#   make run     install missing packages, build, run the main job
#   make test    install missing packages, build, run every test
#   make build   build only (all three variants: release, asan, fuzz)
#   make bench   run the benchmarks (bench/README.md)
#   make format  apply .clang-format
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build run test bench format clean

all: build

deps:
	@bash scripts/deps.sh all

build: deps
	@cmake -S . -B $(BUILD) -DSPATE_VARIANTS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash scripts/run.sh $(BUILD)/spate

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@bash bench/run.sh $(BUILD)

format:
	@find src tests fuzz bench -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
