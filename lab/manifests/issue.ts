import { AmbitError } from '../../lib/errors.js';

/**
 * One problem found while loading manifests, located as precisely as the
 * input allows, so the operator can go straight to the line:
 *
 *   examples/app.yaml: document 2 (Deployment default/web): spec.template.spec.containers[0].command: must be a list of strings (line 14)
 */
export interface ManifestIssue {
  /** The file name as the user gave it (or the apply request's source name). */
  source: string;
  /** 1-based position of the YAML document in the source. */
  document?: number;
  /** `Kind ns/name` of the object, as far as it could be read. */
  object?: string;
  /** Field path from the document root, e.g. `spec.ports[0].targetPort` or `items[2].metadata.name`. */
  path?: string;
  message: string;
  /** 1-based line of the field (or its nearest present ancestor), when known. */
  line?: number;
}

export function formatIssue(issue: ManifestIssue): string {
  let s = issue.source;
  if (issue.document !== undefined) s += `: document ${issue.document}`;
  if (issue.object !== undefined) s += ` (${issue.object})`;
  if (issue.path) s += `: ${issue.path}`;
  s += `: ${issue.message}`;
  if (issue.line !== undefined) s += ` (line ${issue.line})`;
  return s;
}

/** Thrown by `loadManifests`/`parseManifestText` with every issue of the load, not just the first. */
export class ManifestError extends AmbitError {
  readonly issues: readonly ManifestIssue[];

  constructor(issues: readonly ManifestIssue[]) {
    const lines = issues.map(formatIssue);
    super('AMBIT_ERR_MANIFEST', lines.length === 1 ? lines[0]! : `${lines.length} problems in the manifests:\n  ${lines.join('\n  ')}`);
    this.name = 'ManifestError';
    this.issues = issues;
  }
}
