import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AmbitError } from '../../lib/errors.js';
import { libbpf } from '../bpf/libbpf.js';
import { errnoName, loadPinnedProgram } from '../bpf/loader.js';
import { fastLinkPath } from './maps.js';

const OBJECT = 'fastpath.bpf.o';
const PROGRAM = 'ambit_fastpath';
/** enum bpf_attach_type in linux/bpf.h. */
const BPF_SK_SKB_STREAM_VERDICT = 5;

/**
 * Loads bpf/fastpath.c with its maps pinned beside the redirect programs'
 * and attaches the verdict program to ambit_fast_peer through a pinned
 * bpf_link (a sockmap link, Linux 6.10 and later). A restarted agent
 * re-adopts the link and swaps in its program; sockets already in the map
 * keep the program they joined with until they close. Throws an AmbitError
 * naming the cause when the kernel refuses.
 */
export function attachFastPath(opts: { objectDir: string; pinDir: string }): void {
  const objectPath = join(opts.objectDir, OBJECT);
  if (!existsSync(objectPath)) throw new AmbitError('AMBIT_ERR_BPF_LOAD', `eBPF object ${objectPath} is missing: build it with 'make -C bpf'`);
  const bpf = libbpf();
  mkdirSync(opts.pinDir, { recursive: true });
  const linkPath = fastLinkPath(opts.pinDir);
  loadPinnedProgram(bpf, { objectPath, pinDir: opts.pinDir, program: PROGRAM, linkPath }, (prog, obj) => {
    const map = bpf.objectFindMap(obj, 'ambit_fast_peer');
    if (!map) throw new AmbitError('AMBIT_ERR_BPF_LOAD', `${OBJECT} declares no ambit_fast_peer`);
    const link = bpf.linkCreate(bpf.programFd(prog), bpf.mapFd(map), BPF_SK_SKB_STREAM_VERDICT);
    if (link < 0) {
      throw new AmbitError('AMBIT_ERR_BPF_LOAD', `attaching ${PROGRAM} to ambit_fast_peer failed (${errnoName(-link)}): sockmap links need Linux 6.10 or later`);
    }
    const pin = bpf.objPin(link, linkPath);
    bpf.close(link); // the pin keeps the attachment
    if (pin < 0) throw new AmbitError('AMBIT_ERR_BPF_LOAD', `pinning ${linkPath} failed (${errnoName(-pin)})`);
  });
}
