/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps shared by the redirect programs. Every map is pinned by name, so the
 * connect4 and sockops objects share one instance and an agent restart
 * re-adopts them (node-agent/bpf/loader.ts sets the pin directory).
 */
#ifndef AMBIT_MAPS_H
#define AMBIT_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "abi.h"

/* cgroup id -> AMBIT_ENROLL_*: the pods whose traffic is redirected. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_meshed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ambit_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_config SEC(".maps");

/* socket cookie -> original destination, from connect4 until sockops sees
 * the local port. LRU so a socket that never sends its SYN cannot leak. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct ambit_orig_dst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_cookie_dst SEC(".maps");

/* (pod ip, pod port) -> original destination; the agent looks it up on
 * accept and deletes it. LRU bounds what a crashed agent leaves behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct ambit_sock_key);
	__type(value, struct ambit_orig_dst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_orig_dst SEC(".maps");

/* Per socket, where a redirected socket was going, for getpeername(). Socket
 * local storage: the kernel frees it with the socket, so nothing can leak. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ambit_orig_dst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_sock_dst SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AMBIT_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_stats SEC(".maps");

static __always_inline void ambit_count_n(__u32 stat, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&ambit_stats, &stat);
	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline void ambit_count(__u32 stat)
{
	ambit_count_n(stat, 1);
}

#endif
