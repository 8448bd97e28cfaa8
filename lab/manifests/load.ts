import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { KubeObject } from '../../lib/k8s/types.js';
import { ManifestError, type ManifestIssue } from './issue.js';
import { checkManifestText, dropDuplicates, type ManifestCheck } from './parse.js';

/**
 * Reads manifests from files and directories, the way `kubectl apply -f DIR
 * --recursive` does: directories are walked depth first with entries in
 * code-point order, so the same tree always loads in the same order; inside a
 * directory only *.yaml, *.yml and *.json count, while a file named
 * explicitly is read whatever its name.
 */

const MANIFEST_FILE = /\.(ya?ml|json)$/;

function errnoMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

async function walk(dir: string, out: string[], issues: ManifestIssue[], seenDirs: Set<string>): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    issues.push({ source: dir, message: `cannot read directory: ${errnoMessage(err)}` });
    return;
  }
  if (seenDirs.has(real)) return; // a symlink loop, or the same directory twice
  seenDirs.add(real);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    issues.push({ source: dir, message: `cannot read directory: ${errnoMessage(err)}` });
    return;
  }
  const names = entries.map((e) => e.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const path = join(dir, name);
    let info;
    try {
      info = await stat(path); // follows symlinks
    } catch {
      continue; // a dangling symlink is not a manifest
    }
    if (info.isDirectory()) await walk(path, out, issues, seenDirs);
    else if (info.isFile() && MANIFEST_FILE.test(name)) out.push(path);
  }
}

/** The manifest files `paths` name, in load order, without repeats. */
export async function listManifestFiles(paths: readonly string[]): Promise<{ files: string[]; issues: ManifestIssue[] }> {
  const found: string[] = [];
  const issues: ManifestIssue[] = [];
  const seenDirs = new Set<string>();
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      issues.push({ source: p, message: errnoMessage(err) });
      continue;
    }
    if (info.isDirectory()) await walk(p, found, issues, seenDirs);
    else found.push(p);
  }
  const seen = new Set<string>();
  const files = found.filter((f) => {
    const key = resolve(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { files, issues };
}

/** Loads every manifest under `paths`; returns the valid objects and every issue, never throws. */
export async function checkManifests(paths: readonly string[]): Promise<ManifestCheck> {
  const { files, issues } = await listManifestFiles(paths);
  const objects: KubeObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      issues.push({ source: file, message: `cannot read file: ${errnoMessage(err)}` });
      continue;
    }
    const result = checkManifestText(text, file);
    objects.push(...result.objects);
    issues.push(...result.issues);
  }
  return { objects: dropDuplicates(objects, issues), issues };
}

/**
 * Loads files and directories (recursively: *.yaml, *.yml, *.json) into
 * validated, defaulted objects, in a deterministic order. Throws
 * `ManifestError` (AMBIT_ERR_MANIFEST) listing every problem of the load.
 */
export async function loadManifests(paths: string[]): Promise<KubeObject[]> {
  const { objects, issues } = await checkManifests(paths);
  if (issues.length > 0) throw new ManifestError(issues);
  return objects;
}
