/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The contract between the eBPF programs and the node agent.
 *
 * Mirrored byte for byte in node-agent/bpf/abi.ts; node-agent/bpf/abi.test.ts
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
	AMBIT_STAT_FAST_REDIRECTED_BYTES = 8, /* bytes fastpath moved socket to socket */
	AMBIT_STAT_FAST_PASSED_BYTES = 9,     /* bytes fastpath handed up to the agent instead */
	AMBIT_STAT_FAST_TO_AGENT = 10,        /* a direction went from the kernel to the agent */
	AMBIT_STAT_FAST_TO_KERNEL = 11,       /* ... and back, once the agent had caught up */
	AMBIT_STAT_FAST_NO_FLOW = 12,         /* a socket in ambit_fast_peer had no flow record */
	AMBIT_STAT_FAST_BROKEN = 13,          /* a connection overran its bound; the agent resets it */
	AMBIT_STAT_MAX = 14,
};

/*
 * The same-node fast path (fastpath.c, see bpf/README.md). The agent owns
 * both sockets of a same-node connection, puts each into ambit_fast_peer under
 * the other's socket cookie and gives each a flow record; the verdict program
 * then moves what one receives to the other's send side, or hands it up to the
 * agent when the peer falls behind.
 */

/* ambit_fast_flow.mode: where a socket's received bytes go now. */
#define AMBIT_FAST_KERNEL 0 /* redirected to the peer socket's send side */
#define AMBIT_FAST_AGENT 1  /* passed up to the agent, which forwards them */
#define AMBIT_FAST_BROKEN 2 /* over every bound: dropped, and the agent resets the connection */

/* Bytes the kernel may hold for a peer beyond what its socket has taken
 * (the redirect queue has no flow control of its own): past this the
 * direction falls back to the agent, whose reads close the TCP window. */
#define AMBIT_FAST_QUEUE_LIMIT (4u << 20)

/* How far beyond its receive buffer a socket's passed-up bytes may run
 * ahead of the agent before the connection is declared broken. Passed bytes
 * are charged to the socket, so the TCP window keeps them under sk_rcvbuf;
 * only bytes stuck behind the socket's own unsent redirects escape that. */
#define AMBIT_FAST_PASS_SLACK (4u << 20)

/* Value of ambit_fast_flow, keyed by the socket cookie of the receiving
 * socket. Written by the verdict program only, once the agent created it. */
struct ambit_fast_flow {
	__u64 peer;             /* socket cookie of the socket these bytes go to */
	__u64 redirected;       /* bytes redirected to the peer in the kernel */
	__u64 passed;           /* bytes passed up to the agent */
	__u64 mark_redirected;  /* `redirected` when mark_seq was taken */
	__u32 mark_seq;         /* the peer's write_seq when the kernel took over */
	__u32 mode;             /* AMBIT_FAST_* */
};

/* Slots of ambit_stats. Larger than AMBIT_STAT_MAX and never changed, so a
 * new counter does not change the pinned map's layout and an upgraded agent
 * still re-adopts it. */
#define AMBIT_STAT_SLOTS 32

#endif
