/**
 * The rolling-update fenceposts the Deployment and DaemonSet controllers share: maxSurge and
 * maxUnavailable are a count or a percentage (an IntOrString) of the desired pods.
 */

export type IntOrPercent = number | string | undefined;

/**
 * apimachinery's GetScaledValueFromIntOrPercent: a number as it is, `N%` of `total` rounded up
 * or down; anything else (a malformed value the API server would refuse) is 0.
 */
export function scaledValue(value: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : 0;
  const m = /^(\d+)%$/.exec(value ?? '');
  if (m) {
    const exact = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  return /^\d+$/.test(value ?? '') ? Number(value) : 0;
}

/** Both fenceposts at 0 would never move: the controllers then allow one unavailable pod, as Kubernetes does. */
export function fenceposts(surge: number, unavailable: number): { surge: number; unavailable: number } {
  return surge === 0 && unavailable === 0 ? { surge, unavailable: 1 } : { surge, unavailable };
}
