/**
 * What the exit code of every `ambit` command except `lab` means (docs/operations.md,
 * "The ambit CLI"). Scripts key on these, so they are never renumbered.
 */
export const EXIT = Object.freeze({
  /** Done; healthy; the call would be allowed. */
  ok: 0,
  /** Answered, and the answer is bad: a check failed, a proxy is not in sync, the call would be denied. */
  failed: 1,
  /** Bad arguments: nothing was asked of the cluster. */
  usage: 2,
  /** No answer: the cluster, a proxy or the object asked about could not be read (the message says what to check). */
  unknown: 3,
});

/** Bad arguments: the command prints this and its usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
