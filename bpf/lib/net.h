/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few socket constants the programs need. They are fixed by the Linux
 * ABI, so they are written out here rather than taken from the C library's
 * <sys/socket.h>: glibc's headers are for user space and, compiled with
 * -target bpf, pull in its 32-bit stubs (gnu/stubs-32.h), which a plain
 * Debian machine does not have. The BPF objects depend only on the kernel's
 * UAPI headers (linux-libc-dev) and libbpf's (libbpf-dev).
 */
#ifndef AMBIT_NET_H
#define AMBIT_NET_H

#define AMBIT_AF_INET 2      /* include/linux/socket.h */
#define AMBIT_SOCK_STREAM 1  /* include/linux/net.h (enum sock_type) */
#define AMBIT_IPPROTO_TCP 6  /* include/uapi/linux/in.h */

#endif
