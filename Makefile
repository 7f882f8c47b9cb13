# voxsense: read top to bottom. `make help` lists the targets.
#
#   make            build the daemon and the capture generator (release)
#   make run        build, then run the all-in-one sensor live on ./var
#   make demo       build, then analyse a generated capture of 20 calls
#   make test       build (ASan+UBSan), run unit, integration and fuzz smoke tests
#   make bench      offline throughput versus tshark on a 500-call capture
#
# Every target first installs the Debian packages it needs (deploy/deps.sh).

.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: all deps deps-test deps-bench run demo test unit integration fuzz-smoke \
	fuzz bench clean help

CC      ?= gcc
CLANG   ?= clang
BUILD   := build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
msg      = $(if $(filter 1,$(V)),,@printf '  %-8s %s\n' "$(1)" "$(2)";)

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	   -Wno-format-truncation
CPPFLAGS:= -D_GNU_SOURCE -Iinclude -Iuser
CFLAGS_REL  := -std=gnu11 -O2 -g $(WARN)
CFLAGS_ASAN := -std=gnu11 -O1 -g $(WARN) -fno-omit-frame-pointer \
	       -fsanitize=address,undefined -fno-sanitize-recover=all
LDLIBS  := -lpcap -lsqlite3 -lmariadb -lcjson -lssl -lcrypto -lzstd -lz -llzo2 \
	   -lpthread -lm

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CPPFLAGS += -DVS_VERSION='"$(VERSION)"'

# Kernel programs and their skeletons (bpf/bpf.mk adds its rules, include
# paths and libraries; absent until the kernel capture lands).
.DEFAULT_GOAL := all
-include bpf/bpf.mk

# One folder per pipeline stage; every .c in them is part of the daemon.
USER_SRCS := $(sort $(wildcard user/*/*.c))
MAIN_SRC  := user/daemon/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(USER_SRCS))
GEN_SRCS  := $(sort $(wildcard tests/gen/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

REL_LIB   := $(LIB_SRCS:%.c=$(BUILD)/rel/%.o)
ASAN_LIB  := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/unit/%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

all: deps $(BUILD)/rel/voxsense $(BUILD)/rel/vsgen

help:
	@sed -n '2,10p' Makefile | sed 's/^# \{0,1\}//'

deps:
	$(Q)deploy/deps.sh build
deps-test:
	$(Q)deploy/deps.sh build test
deps-bench:
	$(Q)deploy/deps.sh build bench

# --- objects -----------------------------------------------------------------
$(BUILD)/rel/%.o: %.c $(wildcard user/*/*.h include/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS_REL) -c $< -o $@

$(BUILD)/asan/%.o: %.c $(wildcard user/*/*.h include/*.h)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS_ASAN) -c $< -o $@

# --- programs ----------------------------------------------------------------
$(BUILD)/rel/voxsense: $(BUILD)/rel/$(MAIN_SRC:.c=.o) $(REL_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS_REL) $^ $(LDLIBS) -o $@

$(BUILD)/asan/voxsense: $(BUILD)/asan/$(MAIN_SRC:.c=.o) $(ASAN_LIB)
	$(call msg,LD-ASAN,$@)
	$(Q)$(CC) $(CFLAGS_ASAN) $^ $(LDLIBS) -o $@

# The capture generator only writes pcaps; it shares no code with the daemon
# so that its output is an independent ground truth.
$(BUILD)/rel/vsgen: $(GEN_SRCS) $(wildcard tests/gen/*.h)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D) && $(CC) -Itests/gen $(CFLAGS_REL) $(GEN_SRCS) -lpcap -lm -o $@

# Channel codec throughput per compression (docs/channel.md).
$(BUILD)/rel/chan_bench: tests/channel/chan_bench.c $(REL_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_REL) $^ $(LDLIBS) -o $@

# A mirroring sensor for tests: a pcap's frames as PACKETS batches
# (tests/integration/t_dist_mirror.sh).
$(BUILD)/rel/mirror_send: tests/channel/mirror_send.c $(REL_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_REL) $^ $(LDLIBS) -o $@

# Tests rebuild when a shared test header (fixtures) changes.
$(BUILD)/asan/unit/%: tests/unit/%.c $(ASAN_LIB) $(wildcard tests/unit/*.h)
	$(call msg,LD-TEST,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) -Itests $(CFLAGS_ASAN) $(filter-out %.h,$^) $(LDLIBS) -lcriterion -o $@

# libFuzzer targets: the daemon's library built once with clang and
# coverage instrumentation, linked into each target.
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Wno-unknown-warning-option \
	       -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB    := $(LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
.SECONDARY: $(FUZZ_LIB)
$(BUILD)/fuzzobj/%.o: %.c $(wildcard user/*/*.h include/*.h)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) $(wildcard tests/fuzz/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer $(filter-out %.h,$^) $(LDLIBS) -o $@

# --- running -----------------------------------------------------------------
run: all
	$(Q)deploy/deps.sh run
	$(Q)deploy/run.sh $(BUILD)/rel

demo: all
	$(Q)deploy/deps.sh run
	$(Q)deploy/demo.sh $(BUILD)/rel

test: deps-test $(BUILD)/asan/voxsense $(BUILD)/rel/vsgen $(BUILD)/rel/voxsense $(BUILD)/rel/mirror_send $(UNIT_BINS) $(FUZZ_BINS)
	$(Q)tests/run-all.sh $(BUILD)

unit: deps-test $(UNIT_BINS)
	$(Q)for t in $(UNIT_BINS); do echo "== $$t"; $$t --jobs 2 || exit 1; done

fuzz: deps-test $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do $$f -max_total_time=$${FUZZ_SECONDS:-60} \
		tests/fuzz/corpus/$$(basename $$f) || exit 1; done

bench: deps-bench $(BUILD)/rel/voxsense $(BUILD)/rel/vsgen
	$(Q)tests/bench/bench.sh $(BUILD)/rel

clean:
	rm -rf $(BUILD)
