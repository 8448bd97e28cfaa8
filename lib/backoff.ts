/** Retry delays, shared by every reconnecting and retrying loop. */
export interface Backoff {
  /** Delay before the next attempt, in ms. */
  next(): number;
  reset(): void;
}

/** Exponential backoff with full jitter, capped. */
export function exponentialBackoff(initialMs = 200, maxMs = 10_000, random = Math.random): Backoff {
  let attempt = 0;
  return {
    next: () => Math.round(random() * Math.min(maxMs, initialMs * 2 ** attempt++)),
    reset: () => {
      attempt = 0;
    },
  };
}
