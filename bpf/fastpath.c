// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sk_skb/stream_verdict on ambit_fast_peer: the same-node fast path. Once
 * the agent has authorized a connection between two pods of its node, it
 * owns two sockets, the client's (accepted on 15001) and the one it opened
 * to the server pod, and puts each into ambit_fast_peer under the other's
 * cookie. This program then runs for every segment either socket receives
 * and sends it out of the other one: the bytes never reach user space.
 *
 * A redirect lands in the peer socket's psock queue, which the kernel drains
 * into the peer as its send buffer allows but never limits: without a bound
 * a fast sender and a slow reader would pile up kernel memory. So the program
 * tracks how far the peer's write_seq lags behind what it redirected, and past
 * AMBIT_FAST_QUEUE_LIMIT hands the bytes up to the agent instead (SK_PASS):
 * those are charged to the receiving socket, so its TCP window closes as they
 * wait, and the agent forwards them once the queue has drained. When the agent
 * has forwarded all it was given, the kernel takes over again.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "lib/abi.h"
#include "lib/maps.h"
#include "lib/fastpath.h"

/* The only kernel-internal fields read, relocated by libbpf against the
 * running kernel's BTF (CO-RE), so no vmlinux.h is needed. */
struct tcp_sock {
	__u32 write_seq;
} __attribute__((preserve_access_index));

struct sock {
	int sk_rcvbuf;
} __attribute__((preserve_access_index));

static __always_inline int to_agent(struct ambit_fast_flow *f, __u32 len)
{
	if (f->mode != AMBIT_FAST_AGENT) {
		f->mode = AMBIT_FAST_AGENT;
		ambit_count(AMBIT_STAT_FAST_TO_AGENT);
	}
	f->passed += len;
	ambit_count_n(AMBIT_STAT_FAST_PASSED_BYTES, len);
	return SK_PASS;
}

/* How many passed-up bytes may wait for the agent: the receiving socket's
 * own buffer (the TCP window holds charged bytes under it) plus slack. The
 * receiving socket is the one stored under its peer's cookie. */
static __always_inline __u64 pass_bound(__u64 peer_cookie)
{
	__u64 bound = AMBIT_FAST_PASS_SLACK;
	struct bpf_sock *self = bpf_map_lookup_elem(&ambit_fast_peer, &peer_cookie);
	if (!self)
		return bound;
	struct sock *sk = (struct sock *)bpf_skc_to_tcp_sock(self);
	if (sk && sk->sk_rcvbuf > 0)
		bound += sk->sk_rcvbuf;
	bpf_sk_release(self);
	return bound;
}

SEC("sk_skb/stream_verdict")
int ambit_fastpath(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	/* A bare FIN. The agent sees the end of stream and shuts the peer's send
	 * side down itself once the peer has taken every redirected byte; an
	 * empty redirect would only count as a send error on the peer. */
	if (len == 0)
		return SK_DROP;

	__u64 cookie = bpf_get_socket_cookie(skb);
	struct ambit_fast_flow *f = bpf_map_lookup_elem(&ambit_fast_flow, &cookie);
	if (!f) {
		/* Not (or no longer) a connection the agent set up: its own reads get it. */
		ambit_count(AMBIT_STAT_FAST_NO_FLOW);
		return SK_PASS;
	}
	if (f->mode == AMBIT_FAST_BROKEN)
		return SK_DROP;
	if (f->mode == AMBIT_FAST_AGENT) {
		/* Bytes the agent holds and has not forwarded yet come first. */
		__u64 *fwd = bpf_map_lookup_elem(&ambit_fast_fwd, &cookie);
		__u64 behind = f->passed - (fwd ? *fwd : 0);
		if (behind) {
			if (behind + len > pass_bound(f->peer)) {
				f->mode = AMBIT_FAST_BROKEN;
				ambit_count(AMBIT_STAT_FAST_BROKEN);
				return SK_DROP;
			}
			return to_agent(f, len);
		}
	}

	struct bpf_sock *peer = bpf_map_lookup_elem(&ambit_fast_peer, &cookie);
	if (!peer)
		return to_agent(f, len);
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(peer);
	__u32 seq = tp ? tp->write_seq : 0;
	bpf_sk_release(peer);
	if (!tp)
		return to_agent(f, len);

	if (f->mode == AMBIT_FAST_AGENT) {
		/* The agent has caught up: every earlier byte is in the peer socket. */
		f->mark_seq = seq;
		f->mark_redirected = f->redirected;
		f->mode = AMBIT_FAST_KERNEL;
		ambit_count(AMBIT_STAT_FAST_TO_KERNEL);
	}
	/* Only these redirects write to the peer while the kernel carries this
	 * direction, so the gap is exactly what waits in the psock queue. */
	__u32 queued = (__u32)(f->redirected - f->mark_redirected) - (seq - f->mark_seq);
	if (queued + len > AMBIT_FAST_QUEUE_LIMIT)
		return to_agent(f, len);
	f->redirected += len;
	ambit_count_n(AMBIT_STAT_FAST_REDIRECTED_BYTES, len);
	return bpf_sk_redirect_hash(skb, &ambit_fast_peer, &cookie, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
