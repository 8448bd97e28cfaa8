import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { AmbitError } from '../../lib/errors.js';

const execFileAsync = promisify(execFile);

/**
 * Runs a host tool (ip, nft, nsenter) and returns its stdout. A failure is an
 * AmbitError that quotes the command and the tool's own message.
 */
export async function run(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<string> {
  try {
    if (opts.input !== undefined) return runSync(cmd, args, opts);
    const { stdout } = await execFileAsync(cmd, args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    if (opts.allowFail) return '';
    throw commandError(cmd, args, err);
  }
}

export function runSync(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { input: opts.input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 16 << 20 }).toString();
  } catch (err) {
    if (opts.allowFail) return '';
    throw commandError(cmd, args, err);
  }
}

function commandError(cmd: string, args: string[], err: unknown): AmbitError {
  const e = err as { stderr?: Buffer | string; code?: string; message?: string };
  if (e.code === 'ENOENT') {
    return new AmbitError('AMBIT_ERR_PRIVILEGE', `'${cmd}' is not installed (Debian package: ${PACKAGE_OF[cmd] ?? cmd})`);
  }
  const stderr = e.stderr?.toString().trim() || e.message || String(err);
  return new AmbitError('AMBIT_ERR_LAB_SETUP', `${cmd} ${args.join(' ')}: ${stderr}`, { cause: err });
}

const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  nft: 'nftables',
  nsenter: 'util-linux',
  unshare: 'util-linux',
  mount: 'mount',
};
