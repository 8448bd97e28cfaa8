import type { KubeObject } from '../../lib/k8s/types.js';

/** Reading the pod fields the workload logic depends on, tolerant of missing or malformed parts. */

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

/** `status.conditions[type=Ready].status == "True"`, as kubelet reports it. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions = rec(pod['status'])?.['conditions'];
  if (!Array.isArray(conditions)) return false;
  return conditions.some((c) => rec(c)?.['type'] === 'Ready' && rec(c)?.['status'] === 'True');
}

export function podIp(pod: KubeObject): string | undefined {
  const ip = rec(pod['status'])?.['podIP'];
  return typeof ip === 'string' && ip !== '' ? ip : undefined;
}

export function podNodeName(pod: KubeObject): string | undefined {
  const node = rec(pod['spec'])?.['nodeName'];
  return typeof node === 'string' && node !== '' ? node : undefined;
}

/** Succeeded or Failed: the pod's containers are done and it serves nothing. */
export function isPodFinished(pod: KubeObject): boolean {
  const phase = rec(pod['status'])?.['phase'];
  return phase === 'Succeeded' || phase === 'Failed';
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: string;
}

export function containerPorts(pod: KubeObject): ContainerPort[] {
  const out: ContainerPort[] = [];
  const containers = rec(pod['spec'])?.['containers'];
  if (!Array.isArray(containers)) return out;
  for (const c of containers) {
    const ports = rec(c)?.['ports'];
    if (!Array.isArray(ports)) continue;
    for (const p of ports) {
      const r = rec(p);
      const n = r?.['containerPort'];
      if (typeof n !== 'number') continue;
      const port: ContainerPort = { containerPort: n, protocol: typeof r!['protocol'] === 'string' ? (r!['protocol'] as string) : 'TCP' };
      if (typeof r!['name'] === 'string') port.name = r!['name'] as string;
      out.push(port);
    }
  }
  return out;
}
