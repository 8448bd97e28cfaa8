// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup/connect4: the outbound capture. Runs when a task below the node's
 * pod cgroup calls connect() on an IPv4 socket. For TCP from an enrolled pod
 * it records the original destination under the socket cookie and rewrites
 * the destination to the node agent's outbound port (15001). No packet is
 * ever NATed: the socket itself connects to the agent.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/abi.h"
#include "lib/net.h"
#include "lib/maps.h"

/* Is the calling task's cgroup, or one of its ancestors, enrolled? Pods may
 * put each container in a child cgroup of the pod's, so look upwards. */
static __always_inline __u64 enrolled_cgroup(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	if (bpf_map_lookup_elem(&ambit_meshed, &id))
		return id;
#pragma unroll
	for (int level = AMBIT_MAX_CGROUP_LEVEL; level >= 1; level--) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (id && bpf_map_lookup_elem(&ambit_meshed, &id))
			return id;
	}
	return 0;
}

SEC("cgroup/connect4")
int ambit_connect4(struct bpf_sock_addr *ctx)
{
	if (ctx->type != AMBIT_SOCK_STREAM || ctx->protocol != AMBIT_IPPROTO_TCP)
		return 1;

	__u64 cgroup_id = enrolled_cgroup();
	if (!cgroup_id)
		return 1;
	ambit_count(AMBIT_STAT_CONNECT_SEEN);

	__u32 zero = 0;
	struct ambit_config *cfg = bpf_map_lookup_elem(&ambit_config, &zero);
	if (!cfg || !cfg->agent_ip4)
		return 1;

	__u32 dst_ip = ctx->user_ip4;
	__u16 dst_port = (__u16)ctx->user_port;

	if ((bpf_ntohl(dst_ip) >> 24) == 127) {
		ambit_count(AMBIT_STAT_SKIP_LOOPBACK);
		return 1;
	}
	if (dst_port == cfg->dns_port) {
		ambit_count(AMBIT_STAT_SKIP_DNS);
		return 1;
	}
	if (dst_ip == cfg->agent_ip4) {
		ambit_count(AMBIT_STAT_SKIP_AGENT);
		return 1;
	}

	struct ambit_orig_dst orig = {
		.ip4 = dst_ip,
		.port = dst_port,
		.cgroup_id = cgroup_id,
	};
	__u64 cookie = bpf_get_socket_cookie(ctx);
	if (bpf_map_update_elem(&ambit_cookie_dst, &cookie, &orig, BPF_ANY))
		return 1; /* cannot record: let it through rather than strand it */
	/* For getpeername4: the socket keeps its original destination for life. */
	struct ambit_orig_dst *peer = bpf_sk_storage_get(&ambit_sock_dst, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (peer)
		*peer = orig;

	ctx->user_ip4 = cfg->agent_ip4;
	ctx->user_port = cfg->agent_port;
	ambit_count(AMBIT_STAT_REDIRECTED);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
