import type { ServerResponse } from 'node:http';
import { logger } from '../../lib/log.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { isApiError } from './status.js';
import type { ObjectStore, WatchOptions } from './store.js';
import type { KubeObject } from './types.js';

const log = logger('lab', 'apiserver');

export interface WatchStreamConfig {
  /** How often to send a BOOKMARK to clients that allow them. */
  bookmarkIntervalMs: number;
  /** How long a watch lasts when the client gives no timeoutSeconds (real servers pick 30-60 min). */
  defaultTimeoutMs: number;
  /** A watcher that lets this much output pile up unread is cut off; it reconnects from its last version. */
  maxBufferedBytes: number;
}

export interface WatchRequest extends WatchOptions {
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  /** Re-shapes each event's object (kubectl's `get -w` asks for Table rows); identity if absent. */
  render?: (object: Readonly<KubeObject>) => unknown;
}

/**
 * Streams one watch as newline-delimited JSON events over a chunked 200
 * response, exactly as kube-apiserver does: a too-old resourceVersion is a
 * 200 followed by one ERROR event carrying a 410 Status, then the end of the
 * stream. Returns a function that ends the stream (used on server close);
 * other store errors (bad selectors) are thrown before anything is written.
 */
export function serveWatch(
  store: ObjectStore,
  resource: ResourceType,
  req: WatchRequest,
  res: ServerResponse,
  cfg: WatchStreamConfig,
  onEnd: () => void,
): () => void {
  const pending: string[] = [];
  let started = false;
  let ended = false;
  let stopWatch: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];

  const end = (): void => {
    if (ended) return;
    ended = true;
    stopWatch?.();
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
    onEnd();
  };
  const send = (event: unknown): void => {
    if (ended) return;
    const line = JSON.stringify(event) + '\n';
    if (!started) {
      pending.push(line);
      return;
    }
    res.write(line);
    if (res.writableLength > cfg.maxBufferedBytes) {
      log.warn({ resource: resource.plural, buffered: res.writableLength }, 'watch client is not reading; closing its watch so it resumes later');
      end();
    }
  };

  try {
    const render = req.render ?? ((o: Readonly<KubeObject>) => o);
    stopWatch = store.watch(resource, req, (type, object) => send({ type, object: render(object) }));
  } catch (err) {
    if (!isApiError(err, 'Expired')) throw err;
    log.debug({ resource: resource.plural, resourceVersion: req.resourceVersion }, 'watch from an expired resourceVersion; the client must relist');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ type: 'ERROR', object: err.toStatus() }) + '\n');
    onEnd();
    return () => {};
  }

  // No Content-Length, so Node sends the body chunked.
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  started = true;
  if (pending.length > 0) res.write(pending.join(''));
  res.on('close', end);

  const timeoutMs = req.timeoutSeconds !== undefined && req.timeoutSeconds > 0 ? req.timeoutSeconds * 1000 : cfg.defaultTimeoutMs;
  timers.push(setTimeout(end, timeoutMs));
  if (req.allowWatchBookmarks) {
    const apiVersion = apiVersionOf(resource);
    const bookmark = (): void => {
      send({ type: 'BOOKMARK', object: { kind: resource.kind, apiVersion, metadata: { resourceVersion: store.resourceVersion } } });
      timers[1] = setTimeout(bookmark, cfg.bookmarkIntervalMs);
    };
    timers[1] = setTimeout(bookmark, cfg.bookmarkIntervalMs);
  }
  return end;
}
