import { compileCrdSchema, type SchemaCheck } from '../../lib/crds/schema.js';
import type { ResourceType } from './resources.js';
import { ApiError } from './status.js';
import type { DraftObject, KubeObject } from './types.js';

/**
 * Admission by a CustomResourceDefinition's schema, as kube-apiserver applies
 * it: an object of a type whose CRD is stored here (the chart's, in a lab
 * booted from it) is checked against that CRD's openAPIV3Schema for its
 * version, with strict field validation and the CEL rules (lib/crds/schema.ts),
 * and refused with 422 Invalid naming every bad field. Types without a stored
 * CRD (every type of a lab booted without the chart) are not checked, as a
 * cluster without the CRD would not serve them at all.
 */

type Crd = { metadata: { resourceVersion?: string }; spec?: { versions?: { name: string; schema?: { openAPIV3Schema?: Record<string, unknown> } }[] } };

export class CrdAdmission {
  /** Compiled schemas by CRD name and version, kept while the CRD's resourceVersion is unchanged. */
  private readonly compiled = new Map<string, { resourceVersion: string | undefined; check: SchemaCheck | undefined }>();

  constructor(private readonly crdNamed: (name: string) => Readonly<KubeObject> | undefined) {}

  /** Throws ApiError Invalid when the object breaks its CRD's schema. */
  admit(res: ResourceType, obj: KubeObject | DraftObject): void {
    if (res.group === '') return;
    const name = `${res.plural}.${res.group}`;
    const crd = this.crdNamed(name) as Crd | undefined;
    if (!crd) return;
    const check = this.checkFor(`${name}/${res.version}`, crd, res.version);
    const errors = check?.(obj).errors ?? [];
    if (errors.length === 0) return;
    const objName = typeof obj.metadata.name === 'string' ? obj.metadata.name : '';
    const lines = errors.map((e) => `${e.path || '<root>'}: ${e.message}`);
    throw new ApiError('Invalid', `${res.kind}.${res.group} "${objName}" is invalid: ${lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`}`, {
      name: objName,
      group: res.group,
      kind: res.kind,
      causes: errors.map((e) => ({ reason: 'FieldValueInvalid', message: e.message, field: e.path })),
    });
  }

  private checkFor(key: string, crd: Crd, version: string): SchemaCheck | undefined {
    const cached = this.compiled.get(key);
    if (cached && cached.resourceVersion === crd.metadata.resourceVersion) return cached.check;
    const schema = crd.spec?.versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema;
    const check = schema ? compileCrdSchema(schema) : undefined;
    this.compiled.set(key, { resourceVersion: crd.metadata.resourceVersion, check });
    return check;
  }
}
