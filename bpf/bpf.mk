# Kernel capture programs (included by the Makefile before its source lists).
#
#   bpf/X.bpf.c --clang -target bpf--> $(BUILD)/bpf/X.tmp.o
#               --bpftool gen object--> X.bpf.o (BTF deduplicated, linked)
#               --bpftool gen skeleton--> X.skel.h (the object embedded, with
#                 typed accessors for its maps and programs)
#
# The user/capture/ sources that include a skeleton depend on it.

BPF_DIR    := $(BUILD)/bpf
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_SKELS  := $(BPF_SRCS:bpf/%.bpf.c=$(BPF_DIR)/%.skel.h)
BPF_HDRS   := $(wildcard bpf/*.h include/*.h vmlinux/*.h)
BPF_ARCH   := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# <asm/types.h> lives under the host triplet on Debian.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	      -Ivmlinux -Iinclude -Ibpf \
	      -I/usr/include/$(shell $(CC) -dumpmachine)

$(BPF_DIR)/%.tmp.o: bpf/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_DIR)/%.bpf.o: $(BPF_DIR)/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)bpftool gen object $@ $<

$(BPF_DIR)/%.skel.h: $(BPF_DIR)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)bpftool gen skeleton $< name $* > $@

CPPFLAGS += -I$(BPF_DIR)
LDLIBS   += -lbpf -lxdp -lelf -lz

BPF_USERS := $(wildcard user/capture/xdp*.c user/capture/live*.c \
		       user/capture/ring*.c user/capture/afxdp*.c)
$(BPF_USERS:%.c=$(BUILD)/rel/%.o) $(BPF_USERS:%.c=$(BUILD)/asan/%.o) \
$(BPF_USERS:%.c=$(BUILD)/fuzzobj/%.o): $(BPF_SKELS)
# Keep the linked object for llvm-objdump / bpftool inspection.
.SECONDARY: $(BPF_SRCS:bpf/%.bpf.c=$(BPF_DIR)/%.bpf.o)
