// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup/getpeername4: transparency for redirected sockets. connect4 made the
 * socket connect to the node agent (port 15001) instead of where the pod
 * asked; without this program getpeername() in the pod would say so. It
 * reports the original destination, which connect4 stored in the socket's
 * own storage, so applications (and their logs) see the address they dialled.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "lib/abi.h"
#include "lib/maps.h"

SEC("cgroup/getpeername4")
int ambit_getpeername4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 1;
	struct ambit_orig_dst *orig = bpf_sk_storage_get(&ambit_sock_dst, sk, 0, 0);
	if (!orig)
		return 1;
	/* Only a socket still connected to the agent: anything else is not ours to rewrite. */
	__u32 zero = 0;
	struct ambit_config *cfg = bpf_map_lookup_elem(&ambit_config, &zero);
	if (!cfg || ctx->user_ip4 != cfg->agent_ip4 || (__u16)ctx->user_port != cfg->agent_port)
		return 1;
	ctx->user_ip4 = orig->ip4;
	ctx->user_port = orig->port;
	ambit_count(AMBIT_STAT_PEER_RESTORED);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
