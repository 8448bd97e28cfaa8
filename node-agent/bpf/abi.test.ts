import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { decodeConfig, decodeFastFlow, decodeOrigDst, encodeConfig, encodeFastFlow, encodeSockKey, FAST_MAP_NAMES, FAST_MODE, LAYOUT, MAP_NAMES, STATS } from './abi.js';

/**
 * The C structs in bpf/lib/abi.h and their mirror in abi.ts must agree byte
 * for byte. The truth is the BTF the compiler wrote into the built objects.
 */
const repo = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
/** Each object and the maps it declares: every one shares maps.h; the fast path adds its own. */
const declared: Record<string, readonly string[]> = {
  'connect4.bpf.o': MAP_NAMES,
  'sockops.bpf.o': MAP_NAMES,
  'getpeername4.bpf.o': MAP_NAMES,
  'fastpath.bpf.o': [...MAP_NAMES, ...FAST_MAP_NAMES],
};
const objects = Object.keys(declared).map((o) => resolve(repo, 'bpf', 'build', o));

interface BtfType {
  kind: string;
  name?: string;
  size?: number;
  members?: { name: string; bits_offset: number }[];
}

function btf(object: string): BtfType[] {
  return (JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', object]).toString()) as { types: BtfType[] }).types;
}

describe('bpf ABI', () => {
  for (const object of objects) {
    it(`struct layouts match ${object.split('/').pop()}`, () => {
      const types = btf(object);
      for (const [name, layout] of Object.entries(LAYOUT)) {
        const st = types.find((t) => t.kind === 'STRUCT' && t.name === name);
        if (!st) continue; // not every object uses every struct
        assert.equal(st.size, layout.size, `${name} size`);
        const offsets = Object.fromEntries(st.members!.map((m) => [m.name, m.bits_offset / 8]));
        assert.deepEqual(offsets, layout.fields, `${name} field offsets`);
      }
    });

    it(`declares exactly the mirrored maps in ${object.split('/').pop()}`, () => {
      const maps = btf(object)
        .filter((t) => t.kind === 'VAR' && t.name?.startsWith('ambit_'))
        .map((t) => t.name)
        .sort();
      assert.deepEqual(maps, [...declared[object.split('/').pop()!]!].sort());
    });
  }

  it('every struct of abi.ts appears in some object', () => {
    const all = objects.flatMap(btf);
    for (const name of Object.keys(LAYOUT)) assert.ok(all.some((t) => t.kind === 'STRUCT' && t.name === name), name);
  });

  it('stat counters are numbered as in abi.h', () => {
    const header = readFileSync(resolve(repo, 'bpf', 'lib', 'abi.h'), 'utf8');
    const declared = [...header.matchAll(/AMBIT_STAT_([A-Z_]+) = (\d+),/g)]
      .filter((m) => m[1] !== 'MAX')
      .map((m) => [m[1]!.toLowerCase(), Number(m[2])]);
    assert.deepEqual(declared, STATS.map((s, i) => [s, i]));
    assert.match(header, new RegExp(`AMBIT_STAT_MAX = ${STATS.length},`));
  });

  it('fast path modes are numbered as in abi.h', () => {
    const header = readFileSync(resolve(repo, 'bpf', 'lib', 'abi.h'), 'utf8');
    const modes = Object.fromEntries([...header.matchAll(/#define AMBIT_FAST_([A-Z]+) (\d+)\b/g)].map((m) => [m[1]!.toLowerCase(), Number(m[2])]));
    assert.deepEqual(modes, FAST_MODE);
  });

  it('encodes a new fast path flow as passed up until the agent has caught up', () => {
    const flow = encodeFastFlow(0x0102030405060708n);
    assert.equal(flow.length, LAYOUT.ambit_fast_flow.size);
    assert.deepEqual(decodeFastFlow(flow), { peer: 0x0102030405060708n, redirected: 0n, passed: 0n, mode: FAST_MODE.agent });
  });

  it('encodes addresses and ports in network byte order', () => {
    const cfg = encodeConfig({ agentIp: '10.244.1.1', agentPort: 15001, dnsPort: 53 });
    assert.deepEqual([...cfg], [10, 244, 1, 1, 0x3a, 0x99, 0, 53]);
    assert.deepEqual(decodeConfig(cfg), { agentIp: '10.244.1.1', agentPort: 15001, dnsPort: 53 });
    assert.deepEqual([...encodeSockKey('10.0.0.2', 80)], [10, 0, 0, 2, 0, 80, 0, 0]);
    const orig = Buffer.from([10, 96, 0, 10, 0x1f, 0x90, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(decodeOrigDst(orig), { ip: '10.96.0.10', port: 8080, cgroupId: 42n });
    assert.throws(() => encodeSockKey('not-an-ip', 1), /IPv4/);
  });
});
