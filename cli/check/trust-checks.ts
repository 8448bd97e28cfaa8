import { X509Certificate } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { ROOT_CA_CONFIGMAP, ROOT_CA_KEY } from '../../lib/identity/index.js';
import { API_SERVER } from './api-checks.js';
import { apiStatus } from '../cluster/kube.js';
import type { Check, Outcome } from './types.js';

/** A root this close to expiry needs a rotation planned now (docs/operations.md, Rotating the mesh root). */
export const ROOT_EXPIRY_WARN_DAYS = 30;
const DAY_MS = 24 * 3600_000;
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Judges a trust bundle (one or more PEM roots: two during a rotation) at time `now`. */
export function judgeBundle(pem: string, now: number): Outcome {
  const blocks = pem.match(PEM) ?? [];
  if (blocks.length === 0) return { status: 'fail', message: `${ROOT_CA_CONFIGMAP} holds no PEM certificate under ${ROOT_CA_KEY}`, hint: 'the controller publishes it from its CA: check its log (AMBIT_ERR_CA)' };
  const problems: string[] = [];
  let soonest: { subject: string; validTo: number } | undefined;
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (err) {
      problems.push(`certificate ${i + 1} does not parse (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    // A SPIFFE leaf may have an empty subject: its URI SAN names it then.
    const subject = (cert.subject || cert.subjectAltName || `certificate ${i + 1}`).replace(/\n/g, ', ');
    const validTo = Date.parse(cert.validTo);
    if (!cert.ca) problems.push(`${subject} is not a CA certificate`);
    if (validTo <= now) problems.push(`${subject} expired on ${new Date(validTo).toISOString()}`);
    if (Date.parse(cert.validFrom) > now) problems.push(`${subject} is not valid before ${new Date(Date.parse(cert.validFrom)).toISOString()}`);
    if (!soonest || validTo < soonest.validTo) soonest = { subject, validTo };
  }
  const roots = `${blocks.length} root${blocks.length > 1 ? 's' : ''}`;
  if (problems.length) {
    return { status: 'fail', message: problems.join('; '), hint: 'agents verify the controller and each other against these roots: rotate the mesh root (docs/operations.md, Rotating the mesh root)' };
  }
  const days = Math.floor((soonest!.validTo - now) / DAY_MS);
  const when = `${new Date(soonest!.validTo).toISOString().slice(0, 10)} (in ${days} day${days === 1 ? '' : 's'})`;
  if (days < ROOT_EXPIRY_WARN_DAYS) {
    return { status: 'warn', message: `${roots}; ${soonest!.subject} expires ${when}`, hint: 'rotate the mesh root before then (docs/operations.md, Rotating the mesh root); workload certificates stop verifying when it expires' };
  }
  return { status: 'pass', message: `${roots} valid; the first expires ${when}` };
}

const trustRoot: Check = {
  id: 'trust-root',
  group: 'trust',
  scope: 'cluster',
  needs: [API_SERVER],
  run: async ({ kc, namespace, now }) => {
    let cm;
    try {
      cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: ROOT_CA_CONFIGMAP, namespace });
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
      return { status: 'fail', message: `no ConfigMap ${ROOT_CA_CONFIGMAP} in ${namespace}: the trust root is not published`, hint: 'the controller publishes it once ready (see controller-ready); agents cannot start without it' };
    }
    const pem = cm.data?.[ROOT_CA_KEY];
    if (!pem) return { status: 'fail', message: `ConfigMap ${ROOT_CA_CONFIGMAP} has no key ${ROOT_CA_KEY}`, hint: 'delete it and let the controller publish it again' };
    return judgeBundle(pem, now());
  },
};

export const TRUST_CHECK = trustRoot;
