/**
 * PEM framing. Kept apart from der.ts (which builds and parses ASN.1 with
 * node-forge) so that code that only frames or verifies certificates (the
 * data path: HBONE, the agent's workers) never loads node-forge.
 */
const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** DER blocks with the given label, in order; throws on anything that is not clean PEM. */
export function pemBlocks(pem: string, label: string): Buffer[] {
  if (typeof pem !== 'string') throw new Error('PEM input is not a string');
  const out: Buffer[] = [];
  let rest = pem;
  for (const m of pem.matchAll(PEM_RE)) {
    rest = rest.replace(m[0], '');
    if (m[1] !== label) throw new Error(`unexpected PEM block "${m[1]}", wanted "${label}"`);
    const b64 = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new Error('PEM body is not valid base64');
    const der = Buffer.from(b64, 'base64');
    if (der.length === 0) throw new Error('empty PEM block');
    out.push(der);
  }
  if (rest.trim() !== '') throw new Error('text outside PEM blocks');
  if (out.length === 0) throw new Error(`no "${label}" PEM block found`);
  return out;
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}
