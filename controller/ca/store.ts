import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AmbitError } from '../../lib/errors.js';
import type { CaPem } from '../../lib/identity/index.js';

/**
 * Where the mesh CA's root certificate and key persist between controller
 * starts: a folder in the lab, a Secret in a cluster. `create` never
 * overwrites: when two replicas race to create the first root, one wins and
 * the other loads the winner's. Beside the signing root, an operator may store
 * other roots to trust (`trusted-roots.pem`): the next root before a rotation,
 * the previous one after it (docs/operations.md).
 */
export interface CaStore {
  readonly describe: string;
  /** The stored CA, or undefined when there is none yet. */
  load(): Promise<StoredCa | undefined>;
  /** Stores `pem` unless a CA is already stored; says which happened. */
  create(pem: CaPem): Promise<'created' | 'exists'>;
}

export const CERT_KEY = 'ca-cert.pem';
export const KEY_KEY = 'ca-key.pem';
export const TRUSTED_ROOTS_KEY = 'trusted-roots.pem';

/** The signing CA and the PEM of the other roots to trust, if any. */
export interface StoredCa extends CaPem {
  trustedRootsPem: string | undefined;
}

const caError = (msg: string, cause?: unknown) => new AmbitError('AMBIT_ERR_CA', msg, cause === undefined ? undefined : { cause });

/** `<dir>/ca-cert.pem` and `<dir>/ca-key.pem` (mode 0600, folder 0700). */
export class DirectoryCaStore implements CaStore {
  readonly describe: string;

  constructor(private readonly dir: string) {
    this.describe = `directory ${dir}`;
  }

  async load(): Promise<StoredCa | undefined> {
    const read = async (name: string): Promise<string | undefined> => {
      try {
        return await readFile(join(this.dir, name), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw caError(`cannot read ${join(this.dir, name)}: ${(err as Error).message}`, err);
      }
    };
    const certPem = await read(CERT_KEY);
    if (certPem === undefined) return undefined;
    const keyPem = await read(KEY_KEY);
    if (keyPem === undefined) throw caError(`${join(this.dir, CERT_KEY)} exists but ${KEY_KEY} does not; restore the key or remove the certificate to create a new root (every workload certificate then changes)`);
    return { certPem, keyPem, trustedRootsPem: await read(TRUSTED_ROOTS_KEY) };
  }

  async create(pem: CaPem): Promise<'created' | 'exists'> {
    // Both files are written in a sibling temporary folder that is then renamed onto the
    // CA folder: atomic, and it fails rather than overwrite when the folder is not empty.
    const target = resolve(this.dir);
    let tmp: string | undefined;
    try {
      await mkdir(dirname(target), { recursive: true });
      tmp = await mkdtemp(join(dirname(target), `.${basename(target)}-`));
      await writeFile(join(tmp, KEY_KEY), pem.keyPem, { mode: 0o600 });
      await writeFile(join(tmp, CERT_KEY), pem.certPem, { mode: 0o644 });
      await chmod(tmp, 0o700);
      try {
        await rename(tmp, target);
        tmp = undefined;
        return 'created';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
        if ((await this.load()) !== undefined) return 'exists';
        throw caError(`${target} is not empty but holds no CA (${CERT_KEY}); empty it or point AMBIT_CA_DIR elsewhere`);
      }
    } catch (err) {
      if (err instanceof AmbitError) throw err;
      throw caError(`cannot write the CA to ${target}: ${(err as Error).message}`, err);
    } finally {
      if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** A Secret (`ca-cert.pem`, `ca-key.pem`) in the controller's namespace. */
export class SecretCaStore implements CaStore {
  readonly describe: string;
  private readonly api: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.describe = `Secret ${namespace}/${name}`;
  }

  async load(): Promise<StoredCa | undefined> {
    let secret: V1Secret;
    try {
      secret = await this.api.readNamespacedSecret({ namespace: this.namespace, name: this.name });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw caError(`cannot read Secret ${this.namespace}/${this.name}: ${(err as Error).message}; the controller needs RBAC to get secrets in its namespace`, err);
    }
    const data = secret.data ?? {};
    const get = (k: string): string | undefined => (data[k] !== undefined ? Buffer.from(data[k], 'base64').toString('utf8') : secret.stringData?.[k]);
    const certPem = get(CERT_KEY);
    const keyPem = get(KEY_KEY);
    if (!certPem || !keyPem) throw caError(`Secret ${this.namespace}/${this.name} lacks ${!certPem ? CERT_KEY : KEY_KEY}`);
    return { certPem, keyPem, trustedRootsPem: get(TRUSTED_ROOTS_KEY) };
  }

  async create(pem: CaPem): Promise<'created' | 'exists'> {
    try {
      await this.api.createNamespacedSecret({
        namespace: this.namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/part-of': 'ambit' } },
          type: 'Opaque',
          data: { [CERT_KEY]: Buffer.from(pem.certPem).toString('base64'), [KEY_KEY]: Buffer.from(pem.keyPem).toString('base64') },
        },
      });
      return 'created';
    } catch (err) {
      if ((err as { code?: number }).code === 409) return 'exists';
      throw caError(`cannot create Secret ${this.namespace}/${this.name}: ${(err as Error).message}; the controller needs RBAC to create secrets in its namespace`, err);
    }
  }
}
