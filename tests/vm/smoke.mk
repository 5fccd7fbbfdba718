# SPDX-License-Identifier: GPL-2.0-only
# Build the VM smoke test's BPF LSM object and its loader into build/vm/.
#
#   make -f tests/vm/smoke.mk      (from the repository root; tests/vm/run.sh does it)
#
# Every output is written to a temporary name and renamed, so that VM runs started at
# the same time never pick up a half-written file.

OUT := build/vm
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I$(OUT)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -Ivmlinux

all: $(OUT)/vm_lsm_smoke

$(OUT)/smoke_lsm.bpf.o: tests/vm/smoke_lsm.bpf.c vmlinux/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp && mv $@.tmp $@

$(OUT)/smoke_lsm.skel.h: $(OUT)/smoke_lsm.bpf.o
	$(BPFTOOL) gen skeleton $< name smoke_lsm > $@.tmp && mv $@.tmp $@

$(OUT)/vm_lsm_smoke: tests/vm/vm_lsm_smoke.c $(OUT)/smoke_lsm.skel.h
	$(CC) $(CFLAGS) $< -lbpf -lelf -lz -o $@.tmp && mv $@.tmp $@

.PHONY: all
