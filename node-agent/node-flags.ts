/**
 * Node.js flags the node agent must be started with (`node <flags> dist/node-agent/main.js`);
 * the lab does, and a container image's entrypoint must too.
 *
 * `--max-semi-space-size=64` (MiB; Node 20's default is 16): a tunnel allocates a fresh
 * Buffer for every socket read, and with the default young generation enough of them
 * survive a scavenge to drive a full mark-compact of the whole heap every ~100 ms under
 * bulk load. Measured in the lab (iperf3, one stream, both agents, 2 vCPU): agent CPU per
 * GB moved 5.2-5.4 s at 16 MiB, 5.0-5.3 at 32, 3.9-4.4 at 64, 4.0-4.6 at 128; the
 * mark-compacts go away (`--trace-gc`). The cost is up to ~40 MiB more RSS per agent under
 * load.
 */
export const NODE_AGENT_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=64']);
