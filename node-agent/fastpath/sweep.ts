import type { FastMaps } from './maps.js';

/**
 * Deletes the flow records of connections whose sockets are all gone. The
 * agent deletes its own when a connection ends; what an agent that died
 * (SIGKILL, OOM) left behind is found here. A record is stale when neither
 * of its pair's sockmap entries exists, i.e. both sockets have closed. An
 * agent joins a pair within one turn of its event loop, right after creating
 * the records, so a record is only deleted when it looked stale at two sweeps
 * in a row: another agent process sharing the maps (a rolling update) can
 * never lose a record between creating it and joining its sockets.
 */
export class StaleFlowSweeper {
  private suspects = new Set<bigint>();

  constructor(private readonly maps: FastMaps) {}

  /** One sweep; returns how many records it deleted. */
  sweep(): number {
    const stale: bigint[] = [];
    const suspects = new Set<bigint>();
    for (const cookie of this.maps.recordedCookies()) {
      const peer = this.maps.flow(cookie)?.peer;
      if (this.maps.hasPeer(cookie) || (peer !== undefined && this.maps.hasPeer(peer))) continue;
      if (this.suspects.has(cookie)) stale.push(cookie);
      else suspects.add(cookie);
    }
    this.maps.forget(stale);
    this.suspects = suspects;
    return stale.length;
  }
}
