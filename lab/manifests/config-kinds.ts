import { childPath, field, type Fields, type Rec } from '../../lib/crds/index.js';

/** ConfigMap and Secret: data the lab hands to containers through env and envFrom. */

const KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function keyProblem(s: string): string | undefined {
  if (s.length > 253 || !KEY.test(s) || s === '.' || s === '..') return `must be letters, digits, '-', '_' or '.' (got ${JSON.stringify(s)})`;
  return undefined;
}

function base64Problem(s: string): string | undefined {
  return BASE64.test(s.replace(/\s+/g, '')) ? undefined : 'must be base64-encoded; put plain text under stringData (Secret) or data (ConfigMap)';
}

/** Two data maps whose keys must not overlap (data/binaryData, or data/stringData which merges). */
function checkDataMaps(f: Fields, obj: Rec, textKey: string, encodedKey: string, overlapAllowed: boolean): void {
  const text = f.stringMap(field(obj, textKey), textKey, { keyCheck: keyProblem });
  const encoded = f.stringMap(field(obj, encodedKey), encodedKey, { keyCheck: keyProblem, valueCheck: base64Problem });
  if (text && encoded && !overlapAllowed) {
    for (const k of Object.keys(text)) if (Object.prototype.hasOwnProperty.call(encoded, k)) f.add(childPath(encodedKey, k), `duplicates key "${k}" of ${textKey}`);
  }
}

export function checkConfigMap(f: Fields, obj: Rec): void {
  checkDataMaps(f, obj, 'data', 'binaryData', false);
  f.bool(field(obj, 'immutable'), 'immutable');
}

export function checkSecret(f: Fields, obj: Rec): void {
  // stringData is merged over data by the API server, so the same key in both is fine.
  checkDataMaps(f, obj, 'stringData', 'data', true);
  f.string(field(obj, 'type'), 'type');
  f.bool(field(obj, 'immutable'), 'immutable');
}
