import { EXIT } from '../exit.js';
import { renderData, type OutputFormat } from '../format.js';
import type { Report, Status } from './types.js';

export { EXIT } from '../exit.js';
export { OUTPUT_FORMATS, type OutputFormat } from '../format.js';

export const exitCodeOf = (report: Report): number => (report.ok ? EXIT.ok : EXIT.failed);

/** As linkerd check prints them; `-` is a check that does not apply here. */
const MARK: Record<Status, string> = { pass: '√', warn: '‼', fail: '×', skip: '-' };

const GROUP_TITLES: Record<string, string> = {
  node: 'node (this machine',
  kubernetes: 'kubernetes',
  permissions: 'permissions to install',
  'control-plane': 'control plane',
  trust: 'trust root',
  agents: 'node agents',
  waypoints: 'waypoints',
};

export function render(report: Report, format: OutputFormat, hostname: string): string {
  if (format !== 'human') return renderData(report, format);
  const t = report.target;
  const lines = [
    `ambit check${report.mode === 'pre' ? ' --pre' : ''}: ${t.kind === 'lab' ? `lab ${t.name}` : `context ${t.name}`} (${t.server}), namespace ${report.namespace}`,
  ];
  let group: string | undefined;
  for (const c of report.checks) {
    if (c.group !== group) {
      group = c.group;
      const title = GROUP_TITLES[group] ?? group;
      lines.push('', group === 'node' ? `${title}: ${hostname}; node-local, not the cluster's nodes)` : title);
    }
    lines.push(`  ${MARK[c.status]} ${c.id}: ${c.message}`);
    if (c.hint && c.status !== 'pass') lines.push(`      hint: ${c.hint}`);
  }
  const s = report.summary;
  lines.push(
    '',
    `Status: ${s.pass} passed, ${s.warn} warning${s.warn === 1 ? '' : 's'}, ${s.fail} failed, ${s.skip} not applicable` +
      (report.ok ? (s.warn ? ' (warnings do not fail the check)' : '') : ' (exit code 1)'),
  );
  return `${lines.join('\n')}\n`;
}
