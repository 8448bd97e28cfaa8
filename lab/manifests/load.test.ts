import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkManifests, listManifestFiles, loadManifests, ManifestError, manifestOrigin } from './index.js';

const sa = (name: string): string => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${name}}\n`;

describe('loadManifests', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ambit-manifests-'));
    await mkdir(join(root, 'app', 'b-sub', 'deeper'), { recursive: true });
    await mkdir(join(root, 'app', 'a-sub'), { recursive: true });
    await writeFile(join(root, 'app', 'z.yaml'), sa('z'));
    await writeFile(join(root, 'app', 'B.yml'), sa('upper-b'));
    await writeFile(join(root, 'app', 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'json' } }));
    await writeFile(join(root, 'app', 'notes.txt'), 'not a manifest');
    await writeFile(join(root, 'app', 'a-sub', 'one.yaml'), `${sa('one')}---\n${sa('two')}`);
    await writeFile(join(root, 'app', 'b-sub', 'deeper', 'x.yaml'), sa('deep'));
    await symlink(join(root, 'app'), join(root, 'app', 'b-sub', 'loop'));
    await writeFile(join(root, 'explicit.txt'), sa('explicit'));
    await mkdir(join(root, 'bad'));
    await writeFile(join(root, 'bad', '1.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: Bad}\n');
    await writeFile(join(root, 'bad', '2.yaml'), 'apiVersion: v1\nkind: Gadget\nmetadata: {name: g}\n---\n' + sa('ok'));
    await writeFile(join(root, 'bad', '3.yaml'), sa('ok'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('walks directories recursively in code-point order, manifest extensions only', async () => {
    const { files, issues } = await listManifestFiles([join(root, 'app')]);
    assert.deepEqual(issues, []);
    assert.deepEqual(
      files.map((f) => f.slice(root.length + 1)),
      ['app/B.yml', 'app/a-sub/one.yaml', 'app/a.json', 'app/b-sub/deeper/x.yaml', 'app/z.yaml'],
    );
    const objects = await loadManifests([join(root, 'app')]);
    assert.deepEqual(objects.map((o) => o.metadata.name), ['upper-b', 'one', 'two', 'json', 'deep', 'z']);
    assert.deepEqual(manifestOrigin(objects[2]!), { source: join(root, 'app', 'a-sub', 'one.yaml'), document: 2, path: '', line: 5 });
  });

  test('accepts explicit files of any name, in the order given, once each', async () => {
    const objects = await loadManifests([join(root, 'explicit.txt'), join(root, 'app', 'z.yaml'), join(root, 'app')]);
    assert.deepEqual(objects.map((o) => o.metadata.name), ['explicit', 'z', 'upper-b', 'one', 'two', 'json', 'deep']);
  });

  test('collects the errors of every file and names each one', async () => {
    const dir = join(root, 'bad');
    await assert.rejects(loadManifests([dir, join(root, 'missing.yaml')]), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.equal(err.code, 'AMBIT_ERR_MANIFEST');
      assert.deepEqual(err.message.split('\n'), [
        '4 problems in the manifests:',
        `  ${root}/missing.yaml: no such file or directory`,
        `  ${dir}/1.yaml: document 1 (ServiceAccount default/Bad): metadata.name: must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (got "Bad") (line 3)`,
        `  ${dir}/2.yaml: document 1 (Gadget g): kind: "Gadget" is not supported by the lab; supported kinds: Namespace, Pod, Deployment, Service, ServiceAccount, ConfigMap, Secret, Waypoint, AuthorizationPolicy, PeerAuthentication, TrafficPolicy, HTTPRoute, GRPCRoute (line 2)`,
        `  ${dir}/3.yaml: document 1 (ServiceAccount default/ok): metadata.name: the same object is already defined at ${dir}/2.yaml: document 2 (line 1)`,
      ]);
      return true;
    });
    const { objects } = await checkManifests([dir]);
    assert.deepEqual(objects.map((o) => o.metadata.name), ['ok']);
  });

  test('an empty list or empty directory loads nothing', async () => {
    assert.deepEqual(await loadManifests([]), []);
    const empty = join(root, 'empty');
    await mkdir(empty, { recursive: true });
    assert.deepEqual(await loadManifests([empty]), []);
  });
});
