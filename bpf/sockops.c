// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sockops: moves a redirected connection's original destination from its
 * socket cookie (all connect4 knows) to its local address (what the agent
 * sees as the peer of the accepted connection). TCP_CONNECT_CB runs in
 * tcp_connect() after the source port is bound and before the SYN leaves, so
 * the entry exists before the agent can accept.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/abi.h"
#include "lib/net.h"
#include "lib/maps.h"

SEC("sockops")
int ambit_sockops(struct bpf_sock_ops *skops)
{
	if (skops->op != BPF_SOCK_OPS_TCP_CONNECT_CB || skops->family != AMBIT_AF_INET)
		return 1;

	__u64 cookie = bpf_get_socket_cookie(skops);
	struct ambit_orig_dst *orig = bpf_map_lookup_elem(&ambit_cookie_dst, &cookie);
	if (!orig) {
		/* Not redirected by us (an un-enrolled socket), nothing to do. */
		return 1;
	}

	struct ambit_sock_key key = {
		.ip4 = skops->local_ip4,
		/* local_port is in host byte order, unlike remote_port. */
		.port = bpf_htons((__u16)skops->local_port),
	};
	struct ambit_orig_dst value = *orig;
	if (bpf_map_update_elem(&ambit_orig_dst, &key, &value, BPF_ANY) == 0)
		ambit_count(AMBIT_STAT_ORIG_DST_RECORDED);
	bpf_map_delete_elem(&ambit_cookie_dst, &cookie);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
