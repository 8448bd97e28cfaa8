import re2 from 're2-wasm';

/**
 * Route regular expressions are RE2 (Gateway API leaves the dialect to the
 * implementation; Envoy, and so every mesh users compare Ambit with, uses
 * RE2). JavaScript's RegExp accepts more (backreferences, lookaround), so a
 * pattern is checked by compiling it with RE2 itself, the engine the
 * waypoint matches with.
 *
 * re2-wasm runs in a fixed 16 MiB WebAssembly heap and never frees a compiled
 * pattern by itself: each check frees its pattern at once, or a controller
 * validating every update would exhaust that heap and abort the process after
 * some tens of thousands of checks. Whoever keeps compiled patterns (the
 * waypoint) must free them when replaced, for the same reason.
 */

/** The compiled pattern's native half (an Embind handle); `RE2` keeps it in a private field. */
interface Freeable {
  wrapper?: { delete?: () => void };
}

/** What is wrong with `src` as an RE2 pattern, or undefined when it compiles. */
export function re2Problem(src: string): string | undefined {
  let compiled: re2.RE2 | undefined;
  try {
    compiled = new re2.RE2(src, 'u');
    return undefined;
  } catch (err) {
    // re2-wasm's message repeats the pattern as /src/u; what RE2 says is after it.
    const message = err instanceof Error ? err.message : String(err);
    const why = message.slice(message.lastIndexOf('/u: ') >= 0 ? message.lastIndexOf('/u: ') + 4 : 0);
    return `is not a valid RE2 regular expression (${why})${jsAccepts(src) ? '; RE2 has no backreferences or lookaround, which JavaScript has' : ''}`;
  } finally {
    (compiled as Freeable | undefined)?.wrapper?.delete?.();
  }
}

/** Whether JavaScript would take the pattern: then the refusal is RE2's dialect, and the message says so. */
function jsAccepts(src: string): boolean {
  try {
    new RegExp(src, 'u');
    return true;
  } catch {
    return false;
  }
}
