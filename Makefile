# SPDX-License-Identifier: GPL-2.0-only
# pinfold - kernel-enforced least privilege for AI agents.
#
#   make            build build/pinfold
#   make deps       install every Debian 12 package needed (idempotent)
#   make check      unit tests, host integration tests, VM tests
#   make bench      benchmarks, each row against a baseline of the same run (root)
#   make demo       the healthcare demo (needs root)
#   make install    pinfold into $(PREFIX)/sbin, its systemd unit, and the audit signing key
#                   when absent
#   make vmlinux    regenerate vmlinux/vmlinux.h from this kernel's BTF
#   V=1             show full commands

OUT := build
PREFIX ?= /usr/local
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I$(OUT) -I.
LDLIBS := -lbpf -lelf -lz -lyaml -ljson-c -lcrypto
BPF_CFLAGS := -g -O2 -target bpf -fdebug-prefix-map=$(CURDIR)=. -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(OUT) -Ivmlinux -I.

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_PROGS := net files
BPF_OBJS := $(patsubst %,$(OUT)/bpf/%.bpf.o,$(BPF_PROGS))
BPF_SKELS := $(patsubst %,$(OUT)/bpf/%.skel.h,$(BPF_PROGS))

LIB_SRCS := $(filter-out userspace/main.c,$(wildcard userspace/*.c)) $(wildcard policy/*.c)
LIB_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(OUT)/tests/%,$(HELPER_SRCS))
BENCH_SKELS := $(patsubst tests/bench/%.bpf.c,$(OUT)/bench/%.skel.h,$(wildcard tests/bench/*.bpf.c))
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bench/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))

.PHONY: all deps check check-unit check-host check-vm demo vmlinux clean format format-check \
	tests bench install

all: $(OUT)/pinfold

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c bpf/pinfold.h bpf/decide.h $(wildcard bpf/*.bpf.h) \
		vmlinux/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bpf/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name pf_$* > $@.tmp && mv $@.tmp $@

$(OUT)/obj/%.o: %.c $(BPF_SKELS) $(wildcard */*.h) bpf/pinfold.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libpinfold.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/pinfold: $(OUT)/obj/userspace/main.o $(OUT)/libpinfold.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(OUT)/libpinfold.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(OUT)/libpinfold.a $(LDLIBS) -lcmocka -o $@

$(OUT)/tests/%: tests/helpers/%.c tests/helpers/report.h tests/helpers/addr.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# pf-uring drives io_uring through liburing
$(OUT)/tests/pf-uring: tests/helpers/pf-uring.c tests/helpers/report.h tests/helpers/addr.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -luring -o $@

# benchmark programs, each with the skeletons of the benchmarks' own BPF programs
$(OUT)/bench/%.bpf.o: tests/bench/%.bpf.c bpf/pinfold.h vmlinux/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bench/%.skel.h: $(OUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

# rows may call pinfold's own code (row-compile)
$(OUT)/bench/%: tests/bench/%.c $(BENCH_SKELS) bpf/pinfold.h tests/helpers/report.h \
		$(wildcard tests/bench/*.h) $(OUT)/libpinfold.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I$(OUT)/bench $< $(OUT)/libpinfold.a $(LDLIBS) -o $@

tests: $(OUT)/pinfold $(UNIT_BINS) $(HELPER_BINS)

deps:
	$(Q)tests/deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)tests/run-all.sh

check-unit: tests
	$(Q)tests/run-all.sh unit

check-host: tests
	$(Q)tests/run-all.sh host

check-vm: tests
	$(Q)tests/run-all.sh vm

bench: tests $(BENCH_BINS)
	$(Q)OUT=$(OUT) tests/bench/bench.sh

# the key that signs audit checkpoints is made once, at install, readable by root only
install: all
	$(Q)install -D -m 0755 $(OUT)/pinfold $(DESTDIR)$(PREFIX)/sbin/pinfold
	$(Q)install -d -m 0755 $(DESTDIR)/etc/systemd/system
	$(Q)sed 's|@SBIN@|$(PREFIX)/sbin|' userspace/pinfold.service \
		> $(DESTDIR)/etc/systemd/system/pinfold.service
	$(Q)install -D -m 0644 docs/daemon.md $(DESTDIR)$(PREFIX)/share/doc/pinfold/daemon.md
	$(Q)if [ -z "$(DESTDIR)" ] && [ ! -e /etc/pinfold/audit-signing.pem ]; then \
		$(OUT)/pinfold audit keygen; fi

demo: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)demo/run.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

format:
	clang-format -i $(wildcard bpf/*.c bpf/*.h userspace/*.c userspace/*.h policy/*.c policy/*.h \
		tests/unit/*.c tests/helpers/*.c tests/bench/*.c)

format-check:
	clang-format --dry-run -Werror $(wildcard bpf/*.c bpf/*.h userspace/*.c userspace/*.h \
		policy/*.c policy/*.h tests/unit/*.c tests/helpers/*.c tests/bench/*.c)

clean:
	rm -rf $(OUT)

# keep intermediate skeletons and objects
.SECONDARY:
