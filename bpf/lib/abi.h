/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The contract between the eBPF programs and the node agent.
 *
 * Mirrored byte for byte in node-agent/bpf/abi.ts; test/bpf-abi.test.ts
 * compares both through the BTF of the built objects. Never renumber a
 * counter or reorder a field: add at the end.
 */
#ifndef AMBIT_ABI_H
#define AMBIT_ABI_H

#include <linux/types.h>

/* Deepest cgroup level searched for an enrolled ancestor. Pod cgroups sit a
 * few levels down (kubepods/burstable/pod<uid>/<container>), so 16 covers
 * any real layout. */
#define AMBIT_MAX_CGROUP_LEVEL 16

/* Value of ambit_meshed: why a cgroup is enrolled. */
#define AMBIT_ENROLL_MESHED 1

/* ambit_config has one entry at index 0. */
struct ambit_config {
	__u32 agent_ip4;    /* network byte order; 0 means redirection is off */
	__u16 agent_port;   /* network byte order */
	__u16 dns_port;     /* network byte order; connections to it are never redirected */
};

/* Key of ambit_orig_dst: the redirected socket's own address, as the agent
 * sees it as the peer address of the accepted connection. */
struct ambit_sock_key {
	__u32 ip4;          /* network byte order */
	__u16 port;         /* network byte order */
	__u16 pad;
};

/* Where a redirected connection was going before connect4 rewrote it. */
struct ambit_orig_dst {
	__u32 ip4;          /* network byte order */
	__u16 port;         /* network byte order */
	__u16 pad;
	__u64 cgroup_id;    /* cgroup of the connecting task (the pod) */
};

/* Indexes into ambit_stats (an array of __u64 counters). */
enum ambit_stat {
	AMBIT_STAT_CONNECT_SEEN = 0,      /* connect4 ran for an enrolled cgroup */
	AMBIT_STAT_REDIRECTED = 1,        /* destination rewritten to the agent */
	AMBIT_STAT_SKIP_LOOPBACK = 2,
	AMBIT_STAT_SKIP_DNS = 3,
	AMBIT_STAT_SKIP_AGENT = 4,        /* destination already is the agent */
	AMBIT_STAT_ORIG_DST_RECORDED = 5, /* sockops keyed the original destination */
	AMBIT_STAT_COOKIE_MISSING = 6,    /* sockops found no connect4 record */
	AMBIT_STAT_PEER_RESTORED = 7,     /* getpeername4 reported the original destination */
	AMBIT_STAT_MAX = 8,
};

/* Slots of ambit_stats. Larger than AMBIT_STAT_MAX and never changed, so a
 * new counter does not change the pinned map's layout and an upgraded agent
 * still re-adopts it. */
#define AMBIT_STAT_SLOTS 32

#endif
