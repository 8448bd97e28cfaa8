/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps of the same-node fast path, apart from maps.h so that a kernel
 * without sockmap support refuses only fastpath.c and the redirect programs
 * still load (the agent then splices in user space). Pinned by name in the
 * agent's pin folder like the others, so a restarted agent re-adopts them.
 */
#ifndef AMBIT_FASTPATH_H
#define AMBIT_FASTPATH_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "abi.h"

/* Two entries per connection the agent joins in the kernel: under each of
 * its sockets' cookies, the *other* socket. The kernel deletes an entry when
 * its socket closes, so a dead connection leaves nothing here. The value is
 * 64 bits so that a lookup from user space returns the socket's cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_fast_peer SEC(".maps");

/* Socket cookie -> struct ambit_fast_flow, one per socket of ambit_fast_peer.
 * The agent creates and deletes them; twice the sockets, so the records an
 * agent that crashed left behind (swept later) never crowd out live ones. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, struct ambit_fast_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_fast_flow SEC(".maps");

/* Socket cookie -> bytes of its passed-up data the agent has forwarded to
 * the peer (written by the agent only). Equal to the flow's `passed`, the
 * agent has caught up and the kernel may take over again. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_fast_fwd SEC(".maps");

#endif
