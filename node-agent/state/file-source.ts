import { readFile } from 'node:fs/promises';
import { watchFile, unwatchFile } from 'node:fs';
import { parse } from 'yaml';
import type { Logger } from '../../lib/log.js';
import { RESOURCE_TYPES, asPushed, resourceName, type ResourceType } from '../../lib/xds/index.js';
import type { MeshState } from './mesh-state.js';

/** The file's shape: one list per resource type, in the push's own form (lib/xds/types.ts). */
export const FILE_KEYS: Readonly<Record<ResourceType, string>> = {
  Node: 'nodes',
  Workload: 'workloads',
  Service: 'services',
  AuthorizationPolicy: 'authorizationPolicies',
  PeerAuthentication: 'peerAuthentications',
  Route: 'routes',
};

export interface FileSource {
  /** Resolves once the file has been applied completely the first time. */
  readonly loaded: Promise<void>;
  stop(): void;
}

/**
 * A local file (YAML or JSON) instead of the controller's config stream: the
 * same resources, applied through the same updater (`MeshState.apply`, type
 * by type, all of an update or none of it), so an agent can run with no
 * controller and tests need none (as ztunnel's local config). The file is
 * re-read when it changes; what disappeared from it is removed. A malformed
 * file is logged and the last good state stays.
 */
export function startFileSource(path: string, state: MeshState, log: Logger, pollMs = 1000): FileSource {
  const applied = new Map<ResourceType, Set<string>>();
  let markLoaded!: () => void;
  const loaded = new Promise<void>((r) => (markLoaded = r));

  const load = async (): Promise<void> => {
    let doc: Record<string, unknown>;
    try {
      const parsed: unknown = parse(await readFile(path, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the file must be a mapping of resource lists');
      doc = parsed as Record<string, unknown>;
    } catch (err) {
      log.error({ code: 'AMBIT_ERR_CONFIG', path, err: err instanceof Error ? err.message : String(err) }, 'local config file unreadable; keeping the last good state');
      return;
    }
    for (const type of RESOURCE_TYPES) {
      const list = doc[FILE_KEYS[type]] ?? [];
      if (!Array.isArray(list)) {
        log.error({ code: 'AMBIT_ERR_CONFIG', path, key: FILE_KEYS[type] }, `${FILE_KEYS[type]} must be a list; keeping the last good ${type} state`);
        continue;
      }
      let upserts;
      try {
        upserts = asPushed(type, list);
      } catch (err) {
        log.error({ code: 'AMBIT_ERR_CONFIG', path, type, err: err instanceof Error ? err.message : String(err) }, `local config file: ${type} malformed; keeping the last good state`);
        continue;
      }
      const names = new Set(upserts.map((r) => resourceName(type, r as never)));
      const removals = [...(applied.get(type) ?? [])].filter((n) => !names.has(n));
      const r = state.apply(type, upserts as never, removals);
      if (r.ok) applied.set(type, names);
      else log.error({ code: 'AMBIT_ERR_CONFIG', path, type, err: r.error }, `local config file: ${type} rejected; keeping the last good state`);
    }
    if (RESOURCE_TYPES.every((t) => applied.has(t))) {
      state.markComplete();
      markLoaded();
    }
  };

  void load();
  watchFile(path, { interval: pollMs }, () => void load());
  log.info({ path }, 'config from a local file, not from the controller');
  return { loaded, stop: () => unwatchFile(path) };
}
