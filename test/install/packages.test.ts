import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/**
 * A fresh Debian 12 machine must go from clone to green with the README's two
 * commands, so everything the project uses from the host has to come from a
 * package scripts/setup.sh installs (scripts/apt-packages), from one of their
 * dependencies, or from the base system. A machine that kept a package
 * installed by hand hides a missing install step; this test does not: it
 * finds what the eBPF build reads and what the code, tests, demo and
 * benchmarks run, asks dpkg which package owns each, and checks it against
 * that set.
 */
const repo = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

/** Packages a new machine of this kind has before setup runs (Node.js with npm). */
const MACHINE_PACKAGES = new Set(['nodejs']);

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

function setupPackages(): string[] {
  return readFileSync(join(repo, 'scripts', 'apt-packages'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** The packages setup installs and everything they depend on (every alternative counted). */
function installedBySetup(): Set<string> {
  const out = sh('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...setupPackages()]);
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^\s*(?:\|?[A-Za-z-]+:\s*)?<?([a-z0-9][a-z0-9.+-]*)(?::[a-z0-9]+)?>?\s*$/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** Debian's essential and required packages: on every Debian system, a minimal one included. */
function baseSystem(): Set<string> {
  const out = sh('dpkg-query', ['-W', '-f', '${Package}\t${Essential}\t${Priority}\n']);
  return new Set(
    out
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([, essential, priority]) => essential === 'yes' || priority === 'required')
      .map(([name]) => name!),
  );
}

/** dpkg's owner of a file, trying the spellings a merged /usr gives one file. */
function ownerOf(path: string): string | undefined {
  const real = existsSync(path) ? realpathSync(path) : path;
  const candidates = new Set<string>();
  for (const p of [path, real]) {
    candidates.add(p);
    if (p.startsWith('/usr/')) candidates.add(p.slice(4));
    else candidates.add(`/usr${p}`);
    const base = p.split('/').pop()!;
    if (/^\/(usr\/)?s?bin\//.test(p)) for (const d of ['/bin', '/sbin', '/usr/bin', '/usr/sbin']) candidates.add(`${d}/${base}`);
  }
  for (const c of candidates) {
    try {
      const line = sh('dpkg-query', ['-S', c]).split('\n').find((l) => l && !l.startsWith('diversion by'))!;
      return line.slice(0, line.lastIndexOf(': ')).split(',')[0]!.trim().replace(/:[a-z0-9]+$/, '');
    } catch {
      // not this spelling
    }
  }
  return undefined;
}

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (['node_modules', 'dist', '.git', '.cache', 'build'].includes(name)) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (keep(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

interface Use {
  command: string;
  file: string;
  /** A sure use (a spawn of a literal command): it must resolve. Others are candidates that may be words. */
  sure: boolean;
}

const WORD = '[a-z][a-z0-9.+_-]*';

/** Commands run from TypeScript and JavaScript: literal spawns, argv arrays, and what nsenter runs. */
function codeUses(file: string, text: string): Use[] {
  const uses: Use[] = [];
  const add = (re: RegExp, sure: boolean) => {
    for (const m of text.matchAll(re)) uses.push({ command: m[1]!, file, sure });
  };
  add(new RegExp(`\\b(?:spawn|spawnSync|execFile|execFileSync)\\(\\s*'(${WORD})'`, 'g'), true);
  // The lab's own `run('ip', ...)` helpers spawn programs; tests name other things `run` (a check by its id, a span by its pod).
  if (!file.endsWith('.test.ts')) add(new RegExp(`\\b(?:run|runSync)\\(\\s*'(${WORD})'`, 'g'), true);
  add(new RegExp(`--net=[^'\`"]*['\`"],\\s*'(${WORD})'`, 'g'), true);
  // argv arrays handed to something that runs them: `wrap: (argv) => ['nsenter', ...]`, `inLabNetns(lab, 'n', ['tcpdump', ...])`
  add(new RegExp(`(?:\\(argv\\)\\s*=>|inLabNetns\\([^[\\n]*|exec\\([^[\\n]*)\\s*\\[\\s*'(${WORD})'\\s*,`, 'g'), true);
  add(new RegExp(`command:\\s*\\[\\s*"?(${WORD})"?\\s*,`, 'g'), false);
  // Programs named by absolute path (`executablePath: '/usr/bin/chromium'`, a wrapper script's exec line)
  add(new RegExp(`['"\`\\s]/(?:usr/)?s?bin/(${WORD})['"\`\\s]`, 'g'), true);
  return uses;
}

/** Commands in manifests the lab runs: a container's command[0]. */
function manifestUses(file: string, text: string): Use[] {
  return [...text.matchAll(new RegExp(`command:\\s*\\[\\s*["']?(${WORD})["']?`, 'g'))].map((m) => ({ command: m[1]!, file, sure: true }));
}

const SHELL_WORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'esac', 'function', 'select', 'time', '!', '{', '}', '[[', ']]']);
/** Words after which the next word is the command that runs (`exec X`, `timeout 4 X`, `nsenter --net=N X`). */
const RUNNERS = new Set(['exec', 'command', 'nohup', 'timeout', 'nsenter', 'env', 'xargs']);

/** The index of the `)` that closes the `(` at `open`. */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let k = open; k < text.length; k++) {
    if (text[k] === '(') depth++;
    else if (text[k] === ')' && --depth === 0) return k;
  }
  return text.length;
}

/** The commands of the `$( )` substitutions in a piece of text (quoted or arithmetic), as `; cmd ;` code. */
function substitutions(text: string): string {
  let out = '';
  for (let k = text.indexOf('$('); k >= 0; k = text.indexOf('$(', k + 1)) {
    if (text[k + 2] === '(') continue;
    const end = closing(text, k + 1);
    out += `; ${shellCode(text.slice(k + 2, end))} ;`;
    k = end;
  }
  return out;
}

/**
 * A shell script with what cannot run removed: single-quoted text, double-quoted
 * text except its command substitutions, comments and here-document bodies.
 */
function shellCode(text: string): string {
  let out = '';
  let i = 0;
  let pendingHeredoc: string | undefined;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      i = end < 0 ? text.length : end + 1;
      out += ' ';
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += ` ${substitutions(text.slice(i + 1, j))} `;
      i = j + 1;
    } else if (text.startsWith('$((', i)) {
      const end = closing(text, i + 1);
      out += ` ${substitutions(text.slice(i + 3, end - 1))} `;
      i = end + 1;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('<<', i)) {
      const m = /^<<-?\s*['"]?(\w+)['"]?/.exec(text.slice(i));
      if (m) {
        pendingHeredoc = m[1]!;
        i += m[0].length;
      } else {
        out += '<<';
        i += 2;
      }
    } else if (c === '\n' && pendingHeredoc !== undefined) {
      const lines = text.slice(i + 1).split('\n');
      const end = lines.findIndex((l) => l.trim() === pendingHeredoc);
      i += 1 + (end < 0 ? text.length : lines.slice(0, end + 1).join('\n').length);
      pendingHeredoc = undefined;
      out += '\n';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Functions a shell script defines, and those of the repo files it sources (scripts run from the repo root). */
function shellFunctions(text: string): Set<string> {
  const defined = (t: string) => [...t.matchAll(new RegExp(`^\\s*(${WORD})\\(\\)\\s*\\{`, 'gm'))].map((m) => m[1]!);
  const sourced = [...text.matchAll(/^\s*(?:source|\.)\s+([\w./-]+)\s*$/gm)].map((m) => join(repo, m[1]!)).filter((f) => existsSync(f));
  return new Set([...defined(text), ...sourced.flatMap((f) => defined(readFileSync(f, 'utf8')))]);
}

/**
 * Commands in a shell script: the first word of each pipeline element, also
 * inside $( ), after runners like timeout and nsenter; functions the script
 * defines (or sources) and shell builtins are not programs.
 */
function shellUses(file: string, text: string): Use[] {
  const functions = shellFunctions(text);
  const builtins = new Set(sh('bash', ['-c', 'compgen -b']).split('\n').filter(Boolean));
  const uses: Use[] = [];
  for (const segment of shellCode(text).split(/\|\||&&|[|;&`()\n]|\$\(/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    if (words[0] === 'for' || words[0] === 'case') continue; // a variable and a word list, not a command
    let i = 0;
    while (i < words.length) {
      const w = words[i]!;
      if (/^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(w) || SHELL_WORDS.has(w)) i++;
      else if (RUNNERS.has(w)) {
        if (!builtins.has(w)) uses.push({ command: w, file, sure: true });
        i++;
        while (i < words.length && (words[i]!.startsWith('-') || /^\d+[smh]?$/.test(words[i]!))) i++;
      } else break;
    }
    const cmd = words[i];
    if (!cmd || !new RegExp(`^${WORD}$`).test(cmd) || functions.has(cmd) || builtins.has(cmd)) continue;
    uses.push({ command: cmd, file, sure: true });
  }
  return uses;
}

function allUses(): Use[] {
  const uses: Use[] = [];
  for (const f of filesUnder(repo, (p) => /\.(ts|mjs)$/.test(p))) uses.push(...codeUses(f, readFileSync(f, 'utf8')));
  for (const dir of ['examples', 'test', 'bench']) {
    for (const f of filesUnder(join(repo, dir), (p) => /\.ya?ml$/.test(p))) uses.push(...manifestUses(f, readFileSync(f, 'utf8')));
  }
  const scripts = [...filesUnder(join(repo, 'scripts'), (p) => p.endsWith('.sh')), ...filesUnder(join(repo, 'bench'), (p) => p.endsWith('.sh')), join(repo, '.ci', 'run')];
  for (const f of scripts) uses.push(...shellUses(f, readFileSync(f, 'utf8')));
  return uses;
}

function which(command: string): string | undefined {
  try {
    return sh('bash', ['-c', 'PATH="$PATH:/usr/sbin:/sbin"; type -P "$1"', 'which', command]).trim() || undefined;
  } catch {
    return undefined;
  }
}

describe('everything used from the host is installed by scripts/setup.sh', () => {
  const allowed = new Set([...installedBySetup(), ...baseSystem(), ...MACHINE_PACKAGES]);

  it('the eBPF build reads only kernel UAPI and libbpf headers, installed by setup', () => {
    const depFiles = readdirSync(join(repo, 'bpf', 'build')).filter((f) => f.endsWith('.d'));
    assert.ok(depFiles.length >= 2, 'bpf/build has the .d files make -C bpf writes (-MD)');
    const headers = new Set<string>();
    for (const f of depFiles) {
      const text = readFileSync(join(repo, 'bpf', 'build', f), 'utf8').replace(/\\\n/g, ' ');
      for (const path of text.slice(text.indexOf(':') + 1).split(/\s+/).filter(Boolean)) if (path.startsWith('/')) headers.add(path);
    }
    assert.ok(headers.size > 5, `headers found: ${[...headers].join(' ')}`);
    const owners = new Map<string, string>();
    for (const h of headers) {
      const owner = ownerOf(h);
      assert.ok(owner, `${h} (read by the eBPF build) belongs to no Debian package`);
      owners.set(h, owner);
      assert.ok(allowed.has(owner), `${h} comes from ${owner}, which scripts/apt-packages does not install (nor any dependency of it)`);
    }
    // The root cause of the fresh-machine failure was glibc's user-space headers (and their
    // 32-bit stubs) in a -target bpf build: the objects may depend on nothing but these two.
    assert.deepEqual([...new Set(owners.values())].sort(), ['libbpf-dev', 'linux-libc-dev']);
  });

  it('every program the code, tests, demo and benchmarks run comes from an installed package', () => {
    const uses = allUses();
    const byCommand = new Map<string, Use[]>();
    for (const u of uses) byCommand.set(u.command, [...(byCommand.get(u.command) ?? []), u]);
    assert.ok(byCommand.has('nsenter') && byCommand.has('nft') && byCommand.has('tcpdump') && byCommand.has('chromium'), `the scan finds known uses: ${[...byCommand.keys()].join(' ')}`);
    const problems: string[] = [];
    const checked: string[] = [];
    for (const [command, list] of byCommand) {
      const sure = list.filter((u) => u.sure);
      const where = [...new Set((sure.length ? sure : list).map((u) => relative(repo, u.file)))].slice(0, 3).join(', ');
      const path = which(command);
      if (!path) {
        if (sure.length) problems.push(`${command} (run by ${where}) is not installed on this machine`);
        continue;
      }
      const owner = ownerOf(path);
      if (!owner) {
        if (sure.length) problems.push(`${command} (${path}, run by ${where}) belongs to no Debian package`);
        continue;
      }
      if (!allowed.has(owner)) problems.push(`${command} (run by ${where}) comes from ${owner}, which scripts/apt-packages does not install`);
      checked.push(`${command}:${owner}`);
    }
    assert.deepEqual(problems, [], `checked ${checked.join(' ')}`);
  });
});
