/** Milliseconds. Tests drive it by hand. */
export type Clock = () => number;

/**
 * Epoch-based, so times in a config dump read as dates, but monotonic: it does
 * not jump when the wall clock is stepped, as Date.now does.
 */
export const monotonicMs: Clock = () => performance.timeOrigin + performance.now();
