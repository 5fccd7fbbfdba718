/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pinfold.h - the one ABI shared by the kernel programs and userspace.
 *
 * Plain __u8..__u64 fields and fixed arrays only, with explicit padding;
 * userspace checks every size with _Static_assert (userspace/abi.c).
 *
 * Identity. Every confined agent instance runs in its own cgroup v2 below
 * pinfold's parent cgroup. pf_instances maps that cgroup id to an instance
 * slot (0 .. PF_MAX_INSTANCES-1). All rules are keyed by slot, so two
 * instances of one agent, or of two policies, never share rules. A task below
 * the parent whose cgroup has no entry is denied everything (reason
 * PF_REASON_NO_INSTANCE): moving into a sub-cgroup does not escape.
 *
 * Network matching. pf_net is an LPM trie keyed by (slot, generation,
 * address). IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d),
 * so a connect6 to ::ffff:127.0.0.1 is judged exactly as a connect4 to
 * 127.0.0.1. The longest prefix holding the address is found; its value
 * lists the port rules of that prefix AND of every shorter prefix containing
 * it (the compiler pushes them down), less those a backend excepts there, so
 * the longest match alone decides. Each port rule carries the accesses it
 * gives: connect(2) needs PF_ACCESS_CONNECT, a datagram sent with its
 * destination PF_ACCESS_SEND. Example:
 *   backend dns     10.0.0.0/8 53/udp, connect+send (rule 0)
 *   backend ehr     10.1.2.3/32 443/tcp, connect (rule 1)
 *   backend any443  ::/0 443/tcp except 10.0.0.0/8, connect (rule 2)
 *   key slot,gen,::ffff:10.1.2.3/128 -> { 443/tcp rule 1, 53/udp rule 0 }
 *   key slot,gen,::ffff:10.0.0.0/104 -> { 53/udp rule 0 }    (rule 2 excepted)
 *   key slot,gen,::/0                -> { 443/tcp rule 2 }
 *   connect 10.1.2.3:53/udp  -> longest match /128, entry 2 allows (rule 0)
 *   connect 10.9.9.9:443/tcp -> longest match /104, no entry -> denied
 *
 * File matching. pf_trees maps (slot, generation, device, inode) of each
 * tagged tree root to its tag (which tree of which data class, or of which
 * of the agent's own rules) and the accesses the instance holds there. Every
 * tree of every class of the policy is tagged for every instance, whether
 * its agent holds a grant on that class or not: classification belongs to
 * the data. A program walks from the object's dentry up through its
 * parents, following the object's own filesystem; only at the root of a
 * filesystem does it step to the mount point below which that mount sits.
 * The first (deepest) tree root met decides:
 *   classes phi.clinical /srv/ehr, phi.psych /srv/ehr/psych; agent may read phi.clinical
 *   open /srv/ehr/a/chart.txt O_RDONLY  -> phi.clinical decides: allowed
 *   open /srv/ehr/psych/n.txt O_RDONLY  -> phi.psych decides: denied
 *   open /etc/passwd O_RDONLY           -> no tree: denied
 * Mounting /srv/ehr at /mnt/x changes nothing: /mnt/x/a/chart.txt is walked
 * through /srv/ehr. A bind mount of a subdirectory ends the walk at its
 * filesystem's root, so binding /srv/secret below /srv/ehr lends it nothing;
 * a whole filesystem mounted below a tree is part of that tree. What each
 * action needs (bpf/decide.h): reading PF_ACCESS_READ; opening for write and
 * truncating PF_ACCESS_WRITE; exec PF_ACCESS_EXEC; a new name (create,
 * mkdir, symlink, link target, rename target) PF_ACCESS_CREATE where it is
 * made; removing a name (unlink, rmdir, rename source, a rename target that
 * exists) PF_ACCESS_DELETE; the source of a hard link PF_ACCESS_WRITE. An
 * exchange (RENAME_EXCHANGE) gives each name the other's inode, so both ends
 * need create and delete; a rename that leaves a whiteout (RENAME_WHITEOUT)
 * makes a new name at the source, which needs create there too.
 *
 * Tree roots stay where the policy names them. A tree is tagged by the
 * inode its path leads to when the policy is applied; were a directory
 * above it moved away and the path made again, the next apply would tag
 * the new, empty directory, and the old tree's data, under its new name,
 * would be judged by the enclosing class. So pf_anchors holds, keyed as
 * pf_trees, every tagged tree root and every directory on the way to it
 * (each component of its real path, and the symbolic links of the path as
 * written), each with the object of one tree it holds. Whatever rights an
 * instance has, none of these names may be removed (unlink, rmdir, a
 * rename's victim) or moved (a rename's source, either end of an
 * exchange); the denial's reason is PF_REASON_HOLDS_TREE and its object
 * the tree:
 *   class work /srv/rt/work (read-write), class secret /srv/rt/work/x/secret
 *   rename /srv/rt/work/x /srv/rt/work/x2 -> x holds secret: denied
 *   rename /srv/rt/work/y /srv/rt/work/y2 -> allowed (work allows delete, create)
 *   rmdir /srv/rt/work/x/secret          -> a tree root: denied
 *
 * Generations. Every key carries the instance's generation, and a program
 * reads the instance's pf_instances value once per decision. Applying a
 * new policy writes its entries under generation + 1, replaces the
 * instance's value (one atomic update of a hash map without preallocation,
 * whose old element lives on until readers are done), waits for an RCU
 * grace period (so that no program still judging by the old generation is
 * running), then deletes the old generation's entries: each decision is
 * made wholly by the old policy or wholly by the new.
 *
 * Modes. An instance flagged PF_INST_MODE_AUDIT or PF_INST_MODE_RECORD is
 * judged exactly as one that enforces, but no denial is applied: each one
 * is still reported, with PF_EVENT_NOT_APPLIED in its event's flags. In
 * record mode every allowed access is reported as well, not only those of
 * audited rules. A task below the parent without an instance has no mode
 * and is denied in every case:
 *   audit, open /etc/passwd   -> event deny (no rule), not applied; opens
 *   record, open /srv/ehr/a   -> event allow (rule 0); opens
 *
 * Device numbers are the kernel's internal encoding (MAJOR << 20 | MINOR),
 * not st_dev; see compile_resolve_stat() in policy/compile.c.
 */
#ifndef PINFOLD_H
#define PINFOLD_H

#ifdef __BPF__
/* vmlinux.h provides the __u types */
#else
#include <linux/types.h>
#endif

#define PF_ABI_VERSION 5

enum {
	PF_MAX_INSTANCES = 64,        /* concurrently confined instances */
	PF_MAX_TREES = 16384,         /* pf_trees entries, all instances */
	PF_MAX_PREFIXES = 16384,      /* pf_net entries, all instances */
	PF_MAX_ANCHORS = 65536,       /* pf_anchors entries, all instances */
	PF_PORTS_PER_PREFIX = 32,     /* port rules pushed into one prefix */
	PF_FILE_ACCESSES = 5,         /* PF_ACCESS_READ .. PF_ACCESS_EXEC */
	PF_WALK_STEPS = 256,          /* steps of an ancestry walk, mounts included */
	PF_WALK_DEPTH = 32,           /* path components an event records */
	PF_NAME_MAX = 256,            /* one path component, NUL included */
	PF_PATH_MAX = 512,            /* path carried in an event */
	PF_RINGBUF_SIZE = 4096 << 10, /* per instance, a power of two (docs/audit.md) */
	PF_PEERS = 8,                 /* datagram peers remembered per socket */
	PF_MAX_FOWNERS = 16384,       /* file owners set by agents (F_SETOWN), all instances */
	PF_SB_MOUNTS = 64,            /* mounts of one filesystem looked at for a dentry */
	PF_MAX_GUARDED = 512          /* pf_guarded entries: objects, rings included */
};

/*
 * The writer is woken each time the data in its ring crosses a multiple of
 * PF_RINGBUF_WAKE_BYTES; it looks every PF_RINGBUF_POLL_MS anyway
 * (pf_event_submit, docs/audit.md "How soon a record is written").
 */
enum {
	PF_RINGBUF_WAKE_BYTES = PF_RINGBUF_SIZE / 16,
	PF_RINGBUF_POLL_MS = 10,
};

#define PF_RULE_NONE 0xffffffffu

/*
 * Access rights: one bit per action of the policy language. Files use
 * READ..EXEC (pf_tree.access), destinations CONNECT and SEND
 * (pf_port_rule.access). PF_ACCESS_BIT(i) is the right whose granting rule
 * is pf_tree.rule[i].
 */
#define PF_ACCESS_READ (1u << 0)    /* open for reading */
#define PF_ACCESS_WRITE (1u << 1)   /* open for writing, truncate */
#define PF_ACCESS_CREATE (1u << 2)  /* create a name: file, directory, link, rename target */
#define PF_ACCESS_DELETE (1u << 3)  /* remove a name: unlink, rmdir, rename source or victim */
#define PF_ACCESS_EXEC (1u << 4)    /* open for execution (execve, the ELF interpreter) */
#define PF_ACCESS_CONNECT (1u << 5) /* connect(2), TCP or UDP */
#define PF_ACCESS_SEND (1u << 6)    /* a datagram sent with its destination (sendto, sendmsg) */
#define PF_ACCESS_BIT(i) (1u << (i))

/*
 * pf_instance.sockets: kinds of socket an agent may create. Sockets of the
 * IPv4 and IPv6 families are judged by a cgroup sock_create program (which
 * runs everywhere pinfold runs), every other family by the BPF LSM
 * socket_create hook (where BPF LSM runs).
 */
#define PF_SOCK_TCP (1u << 0)           /* AF_INET(6) SOCK_STREAM, TCP or MPTCP */
#define PF_SOCK_UDP (1u << 1)           /* AF_INET(6) SOCK_DGRAM, UDP */
#define PF_SOCK_UNIX (1u << 2)          /* AF_UNIX */
#define PF_SOCK_NETLINK_ROUTE (1u << 3) /* AF_NETLINK, NETLINK_ROUTE: interfaces */
#define PF_SOCK_PING (1u << 4)          /* AF_INET(6) SOCK_DGRAM, ICMP echo */
#define PF_SOCK_RAW (1u << 5)           /* AF_INET(6) SOCK_RAW */
#define PF_SOCK_PACKET (1u << 6)        /* AF_PACKET */
#define PF_SOCK_DEFAULT (PF_SOCK_TCP | PF_SOCK_UDP | PF_SOCK_UNIX | PF_SOCK_NETLINK_ROUTE)

/* pf_instance.flags */
#define PF_INST_FILES_UNENFORCED (1u << 0) /* BPF LSM absent: audit says so */
#define PF_INST_MODE_AUDIT (1u << 1)       /* judge and report, deny nothing */
#define PF_INST_MODE_RECORD (1u << 2)      /* report every decision, deny nothing */
/* the writer cannot write records (a full disk): audit-required access is denied */
#define PF_INST_AUDIT_BLOCKED (1u << 3)

enum pf_action {
	PF_ACT_OPEN_READ = 1,
	PF_ACT_OPEN_WRITE = 2,
	PF_ACT_CREATE = 3,
	PF_ACT_UNLINK = 4,
	PF_ACT_RENAME = 5,
	PF_ACT_LINK = 6,
	PF_ACT_CONNECT = 7,
	PF_ACT_SENDMSG = 8,
	PF_ACT_TRUNCATE = 9,    /* truncate(2), O_TRUNC */
	PF_ACT_SETSOCKOPT = 10, /* path holds the option's name */
	PF_ACT_RECEIVE = 11,    /* an inbound packet; addr and port: its source */
	PF_ACT_MOUNT = 12,      /* mount or move_mount; path: the mount point */
	PF_ACT_USERNS = 13,     /* creating a user namespace */
	PF_ACT_PTRACE = 14,     /* ptrace or /proc access to another task; ino: its pid */
	PF_ACT_EXEC = 15,       /* open for execution */
	PF_ACT_MAP_EXEC = 16,   /* mmap or mprotect of a file with PROT_EXEC: needs exec */
	PF_ACT_SOCKET = 17,     /* creating a socket: family; port: its type; ino: its protocol */
	PF_ACT_BPF = 18,        /* the bpf(2) system call; ino: its command */
	PF_ACT_SIGNAL = 19,     /* signal to another task; ino: its pid; path: comm; port: signo */
	PF_ACT_MODULE = 20,     /* loading kernel code (a module, a kexec image); path: its file */
	PF_ACT_SETATTR = 21,    /* chmod, chown or a change of times: needs write */
	PF_ACT_RECEIVE_FD = 22, /* an SCM_RIGHTS descriptor open to read: needs read */
	/* AF_UNIX, to a socket bound to a path (needs write on it) or to an
	 * abstract name (path: "@name"; only the instance's own listeners) */
	PF_ACT_UNIX_CONNECT = 23, /* connect of a stream or seqpacket socket */
	PF_ACT_UNIX_SEND = 24,    /* a datagram's connect or send */
	PF_ACT_SETXATTR = 25,     /* setting or removing an extended attribute: needs write */
	/* changes to another task; ino: its pid; path: its comm */
	PF_ACT_SETNICE = 26,      /* setpriority */
	PF_ACT_SETIOPRIO = 27,    /* ioprio_set */
	PF_ACT_SETSCHEDULER = 28, /* sched_setscheduler, sched_setattr, sched_setaffinity */
	PF_ACT_SETRLIMIT = 29,    /* prlimit with new limits; port: the resource */
	PF_ACT_SETPGID = 30,      /* setpgid */
	PF_ACT_MOVEMEMORY = 31,   /* migrate_pages, move_pages */
	PF_ACT_IOCTL = 32,        /* an ioctl agents may never make; ino: its command */
	PF_ACT_MAX
};

enum pf_decision {
	PF_DECISION_ALLOW = 1,
	PF_DECISION_DENY = 2,
};

enum pf_reason {
	PF_REASON_RULE = 1,         /* rule_id allowed it */
	PF_REASON_NO_RULE = 2,      /* no rule covers the object */
	PF_REASON_ACCESS = 3,       /* the deepest tree (object) lacks the access */
	PF_REASON_NO_INSTANCE = 4,  /* cgroup below the parent, not an instance */
	PF_REASON_TOO_DEEP = 5,     /* no tree within PF_WALK_STEPS ancestors */
	PF_REASON_PROTOCOL = 6,     /* neither TCP nor UDP */
	PF_REASON_SOURCE_ROUTE = 7, /* a source route would bypass the rules */
	PF_REASON_INBOUND = 8,      /* not a reply from an allowed destination */
	PF_REASON_NEVER = 9,        /* agents may never do this */
	PF_REASON_ICMP_ERRORS = 10, /* ICMP errors would carry anyone's bytes in */
	PF_REASON_OTHER_TASK = 11,  /* the task is not of the agent's instance */
	PF_REASON_HOLDS_TREE = 12,  /* the name moved or removed is or holds a tree root */
	PF_REASON_SOCKET_KIND = 13, /* the agent's socket kinds (pf_instance.sockets) lack it */
	PF_REASON_AUDIT = 14,       /* audit-required access that cannot be recorded */
};

/* pf_event.path_truncated */
#define PF_PATH_NO_ROOT (1u << 0) /* the top of the path is missing */
#define PF_PATH_CUT (1u << 1)     /* the end of the path is cut off */

/* pf_event.flags */
#define PF_EVENT_NOT_APPLIED (1u << 0) /* a denial the instance's mode let pass */

/* pf_event.side: which end of a rename or link the event is about */
enum pf_side {
	PF_SIDE_OBJECT = 0,
	PF_SIDE_SOURCE = 1,
	PF_SIDE_TARGET = 2,
};

/* counters in pf_stats, per CPU */
enum pf_stat {
	PF_STAT_RINGBUF_FULL = 0, /* event dropped: instance ring full */
	PF_STAT_NO_RINGBUF = 1,   /* event dropped: slot has no ring */
	PF_STAT_UNKNOWN = 2,      /* denied: below the parent, no instance */
	PF_STAT_INBOUND = 3,      /* inbound packets dropped without an event */
	PF_STAT_FOWNERS_FULL = 4, /* an agent's F_SETOWN not remembered: pf_fowners full */
	PF_STAT_AUDIT_DENIED = 5, /* audit-required access denied: it could not be recorded */
	PF_STAT_GUARD_DENIED = 6, /* a task other than pinfold refused pinfold's objects */
	PF_STAT_MAX
};

/*
 * The guard. Where the file programs run, pinfold's own kernel objects are
 * its alone: a task is pinfold when its executable (mm->exe_file) is the
 * inode the loader ran from (pf_config.exe_*) and it is not below the
 * parent cgroup (confined, it is an agent whatever it runs); a task
 * without memory (a kernel thread) is not judged. Every other task, root
 * included, is refused with EPERM (and counted, PF_STAT_GUARD_DENIED):
 *   a descriptor of an object pf_guarded lists (bpf(2) *_GET_FD_BY_ID,
 *   or any other way the kernel makes one for a map or program);
 *   a lookup through, or a change in, the pin directory (pf_config.pins_*),
 *   so no path, bind mount or symbolic link reaches a pin; an agent's
 *   lookups there are left to its file rules, which record them;
 *   renaming the pin directory, and unmounting a mount whose tree holds
 *   the filesystem of the pins;
 *   ptrace-class access to a task that runs pinfold's executable (ptrace,
 *   /proc/PID/fd, /proc/PID/mem, pidfd_getfd, process_vm_readv).
 * Example: pinfold loaded from /usr/local/sbin/pinfold (dev 8:1, ino 4242)
 *   bpftool map dump id 17 (pf_trees)              -> EPERM
 *   cat /sys/fs/bpf/pinfold/pf_config, from a bind
 *   mount of /sys/fs/bpf or through a symlink      -> EPERM
 *   /usr/local/sbin/pinfold unload                 -> unpins
 *   a copy of that binary, or another build        -> EPERM, as any task
 */

/* pf_config.guard_flags */
#define PF_GUARD_EXE_GEN (1u << 0) /* exe_gen is known: a reused inode number is not pinfold */

/* pf_config slot 0 */
struct pf_config {
	__u64 parent_cgroup_id; /* pinfold's parent cgroup */
	__u32 parent_level;     /* its depth in the cgroup2 tree */
	__u32 abi_version;      /* PF_ABI_VERSION of the loader */
	__u64 build;            /* digest of the loaded BPF objects */
	__u64 exe_dev;          /* the loader's executable: device (kernel encoding) */
	__u64 exe_ino;          /* and inode; 0 leaves the guard off */
	__u64 pins_dev;         /* the pin directory: its bpffs (kernel encoding) */
	__u64 pins_ino;         /* and inode */
	__u32 exe_gen;          /* the executable's inode generation (PF_GUARD_EXE_GEN) */
	__u32 guard_flags;      /* PF_GUARD_* */
};

/* pf_guarded key: one of pinfold's kernel objects; the value is a __u32, 1 */
struct pf_guard_key {
	__u32 kind; /* PF_GUARD_MAP, PF_GUARD_PROG or PF_GUARD_LINK: ids are per kind */
	__u32 id;
};

enum pf_guard_kind {
	PF_GUARD_MAP = 1,
	PF_GUARD_PROG = 2,
	PF_GUARD_LINK = 3,
};

/*
 * pf_instances value, keyed by cgroup id (__u64). gen selects which entries
 * of pf_trees and pf_net are the instance's rules: a new policy is written
 * under the next generation and takes effect, all at once, when this value
 * is replaced (see "Generations" above).
 */
struct pf_instance {
	__u32 slot;
	__u32 flags; /* PF_INST_* */
	__u32 gen;
	__u32 sockets; /* PF_SOCK_*: the kinds of socket the agent may create */
};

/* pf_trees key */
struct pf_tree_key {
	__u32 slot;
	__u32 gen;
	__u64 dev; /* kernel encoding */
	__u64 ino;
};

/*
 * pf_trees value: the tree root's tag (object: which tree of which data
 * class, see policy.h) and what this instance may do below it. rule[i]
 * names the grant that gives PF_ACCESS_BIT(i); PF_RULE_NONE where access
 * lacks the bit.
 */
struct pf_tree {
	__u32 object;
	__u32 access;  /* PF_ACCESS_READ .. PF_ACCESS_EXEC */
	__u32 audited; /* accesses whose allowed uses are reported too; PF_AUDIT_REQUIRED */
	__u32 rule[PF_FILE_ACCESSES];
};

/*
 * pf_tree.audited: the tree's class is audit-required. Every access below
 * it is reported, and one whose event cannot be queued (the ring is full)
 * or written (the instance is PF_INST_AUDIT_BLOCKED) is denied.
 */
#define PF_AUDIT_REQUIRED (1u << 31)

/*
 * pf_anchors: key a struct pf_tree_key (slot, generation, device, inode of
 * a tree root or of a directory above one); value the __u32 object of a
 * tree it is or holds (see "Tree roots stay" above).
 */

/* pf_net key: prefixlen counts the 64 slot and generation bits plus the address bits */
struct pf_net_key {
	__u32 prefixlen;
	__u32 slot; /* big-endian, so that slot and gen form the top bits */
	__u32 gen;  /* big-endian */
	__u8 addr[16];
};

struct pf_port_rule {
	__u16 port_lo; /* host byte order, inclusive */
	__u16 port_hi;
	__u8 proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 access;  /* PF_ACCESS_CONNECT and/or PF_ACCESS_SEND */
	__u8 audited; /* accesses whose allowed uses are reported too */
	__u8 pad;
	__u32 rule_id; /* the grant */
	__u32 object;  /* the destination: which of which backend */
};

/* pf_net value */
struct pf_net_rules {
	__u32 count;
	__u32 pad;
	struct pf_port_rule rules[PF_PORTS_PER_PREFIX];
};

/* One decision, sent through the instance's ring buffer. */
struct pf_event {
	__u64 boot_ns; /* CLOCK_BOOTTIME */
	/* the instance's event number: one more for each event the kernel
	 * meant to report, queued or not, so the writer sees every gap */
	__u64 seq;
	__u64 cgroup_id;
	__u64 dev; /* file events: object inode's device (kernel encoding) */
	__u64 ino;
	__u32 pid; /* thread group id */
	__u32 uid;
	__u32 slot;
	__u32 rule_id;       /* the grant that allowed; PF_RULE_NONE when none */
	__u16 action;        /* enum pf_action */
	__u8 decision;       /* enum pf_decision */
	__u8 reason;         /* enum pf_reason */
	__u8 side;           /* enum pf_side */
	__u8 path_truncated; /* PF_PATH_* */
	__u8 family;         /* AF_INET or AF_INET6 as called, for network events */
	__u8 proto;
	__u16 port;   /* host byte order */
	__u16 flags;  /* PF_EVENT_* */
	__u32 gen;    /* the instance's generation that decided */
	__u32 object; /* the tree or destination that decided; PF_RULE_NONE when none */
	__u32 pad3;
	__u8 addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	char comm[16];
	char path[PF_PATH_MAX]; /* absolute, NUL-terminated */
};

/*
 * An event without a path (network events, but setsockopt's; socket
 * creation) is only this long in the ring: it ends before path, which the
 * writer reads as empty. Every other event is sizeof(struct pf_event).
 */
#define PF_EVENT_SHORT_SIZE __builtin_offsetof(struct pf_event, path)
/* what the largest event takes in a ring: the kernel's 8-byte header, 8-byte aligned */
#define PF_RINGBUF_RECORD_MAX ((sizeof(struct pf_event) + 8 + 7) / 8 * 8)
/*
 * Whether the event that brought a ring's data to avail bytes (its own
 * counted) took it across a multiple of PF_RINGBUF_WAKE_BYTES, judged as
 * if it were of the largest size: the events that wake the writer
 * (pf_event_submit). Never below PF_RINGBUF_WAKE_BYTES.
 */
#define PF_RINGBUF_CROSSED(avail)                                                                  \
	((avail) >= PF_RINGBUF_WAKE_BYTES &&                                                       \
	 (avail) / PF_RINGBUF_WAKE_BYTES !=                                                        \
		 ((avail)-PF_RINGBUF_RECORD_MAX) / PF_RINGBUF_WAKE_BYTES)

#endif /* PINFOLD_H */
