// SPDX-License-Identifier: GPL-2.0-only
/*
 * abi.c - compile-time checks that bpf/pinfold.h means the same to the
 * kernel programs and to userspace: sizes are fixed, padding explicit.
 */
#include <stddef.h>

#include "bpf/pinfold.h"

_Static_assert(PF_ABI_VERSION == 5, "the sizes below are those of ABI version 5");
_Static_assert(sizeof(struct pf_config) == 64, "pf_config size");
_Static_assert(offsetof(struct pf_config, exe_gen) == 56, "pf_config has no hidden padding");
_Static_assert(sizeof(struct pf_guard_key) == 8, "pf_guard_key size");
_Static_assert(sizeof(struct pf_instance) == 16, "pf_instance size");
_Static_assert(sizeof(struct pf_tree_key) == 24, "pf_tree_key size");
_Static_assert(offsetof(struct pf_tree_key, dev) == 8, "pf_tree_key has no hidden padding");
_Static_assert(sizeof(struct pf_tree) == 12 + 4 * PF_FILE_ACCESSES, "pf_tree size");
_Static_assert(sizeof(struct pf_net_key) == 28, "pf_net_key size");
_Static_assert(offsetof(struct pf_net_key, addr) == 12, "pf_net_key: slot and gen before addr");
_Static_assert(sizeof(struct pf_port_rule) == 16, "pf_port_rule size");
_Static_assert(sizeof(struct pf_net_rules) == 8 + 16 * PF_PORTS_PER_PREFIX, "pf_net_rules size");
_Static_assert(offsetof(struct pf_event, seq) == 8, "pf_event seq offset");
_Static_assert(offsetof(struct pf_event, flags) == 66, "pf_event flags offset");
_Static_assert(offsetof(struct pf_event, gen) == 68, "pf_event gen offset");
_Static_assert(offsetof(struct pf_event, object) == 72, "pf_event object offset");
_Static_assert(offsetof(struct pf_event, addr) == 80, "pf_event header size");
_Static_assert(sizeof(struct pf_event) == 112 + PF_PATH_MAX, "pf_event size");
_Static_assert(PF_EVENT_SHORT_SIZE == 112, "a short event ends where the path starts");
_Static_assert(PF_EVENT_SHORT_SIZE % 8 == 0, "a short event keeps the ring 8-byte aligned");
_Static_assert(PF_RINGBUF_WAKE_BYTES < PF_RINGBUF_SIZE / 2,
	       "the writer is woken well before the ring is full");
_Static_assert(!PF_RINGBUF_CROSSED(PF_EVENT_SHORT_SIZE + 8),
	       "one event in an empty ring wakes no one");
_Static_assert(PF_RINGBUF_CROSSED(PF_RINGBUF_WAKE_BYTES), "reaching the wake-up fill wakes");
_Static_assert(PF_RINGBUF_CROSSED(2 * PF_RINGBUF_WAKE_BYTES + 100), "each multiple wakes");
_Static_assert(!PF_RINGBUF_CROSSED(PF_RINGBUF_WAKE_BYTES + PF_RINGBUF_RECORD_MAX), "past it, none");
_Static_assert(PF_ACCESS_BIT(PF_FILE_ACCESSES - 1) == PF_ACCESS_EXEC, "file rights come first");
_Static_assert(PF_ACCESS_SEND <= 0xff, "network rights fit pf_port_rule.access");
_Static_assert(PF_ACT_MAX <= 0xffff, "actions fit pf_event.action");
_Static_assert(PF_REASON_AUDIT <= 0xff, "reasons fit pf_event.reason");
_Static_assert((PF_WALK_DEPTH & (PF_WALK_DEPTH - 1)) == 0, "walk depth is a power of two");
_Static_assert((PF_PATH_MAX & (PF_PATH_MAX - 1)) == 0, "path size is a power of two");
_Static_assert((PF_RINGBUF_SIZE & (PF_RINGBUF_SIZE - 1)) == 0, "ring size is a power of two");
