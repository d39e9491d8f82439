import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

function lint(...files: string[]) {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'scripts/lint-scenario.ts'), ...files], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: result.status, out: result.stdout };
}

describe('scripts/lint-scenario.ts', () => {
  const folder = mkdtempSync(join(tmpdir(), 'lint-scenario-'));

  it('prints compiler-like diagnostics and exits 1 on errors', () => {
    const file = join(folder, 'bad.json');
    writeFileSync(file, '{\n  "version": "1.0",\n  "start_step": "welcom",\n  "steps": {"welcome": {"type": "message", "message": {"text": "{{nme}}"}}}\n}\n');
    const { code, out } = lint(file);
    expect(code).toBe(1);
    expect(out.trim().split('\n')).toEqual([
      `${file}:3:17: error: start_step "welcom" is not a step [did you mean "welcome"?]`,
      `${file}:4:67: warning: variable "nme" is never declared or collected; it will be empty`,
    ]);
  });

  it('exits 0 when there are only warnings', () => {
    const { code, out } = lint(join(ROOT, 'examples/feedback.json'), join(ROOT, 'examples/menu.json'));
    expect(code).toBe(0);
    expect(out).toMatch(/^.*feedback\.json:\d+:\d+: warning: 5 buttons/m);
  });

  it('reports a JSON syntax error with its position', () => {
    const file = join(folder, 'syntax.json');
    writeFileSync(file, '{"version": "1.0",}');
    expect(lint(file)).toEqual({ code: 1, out: `${file}:1:19: error: JSON syntax error: trailing comma before the closing bracket is not allowed in JSON\n` });
  });
});
