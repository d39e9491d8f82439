/**
 * Lints scenario files the way the API validates them, in a compiler-like format:
 *   npm run lint:scenario -- examples/*.json
 *   file:line:col: error|warning: message [suggestion]
 * Exit code 1 when any file has an error.
 */
import { readFileSync } from 'node:fs';
import { validateScenarioText, type Diagnostic } from '../src/engine';

function format(file: string, diagnostic: Diagnostic): string {
  const where = `${file}:${diagnostic.line ?? 1}:${diagnostic.column ?? 1}`;
  const suggestion = diagnostic.suggestion ? ` [${diagnostic.suggestion}]` : '';
  return `${where}: ${diagnostic.severity}: ${diagnostic.message}${suggestion}`;
}

function main(files: string[]): number {
  if (files.length === 0) {
    process.stderr.write('usage: lint-scenario <scenario.json>...\n');
    return 2;
  }
  let failed = false;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      process.stdout.write(`${file}:1:1: error: cannot read the file (${(error as Error).message})\n`);
      failed = true;
      continue;
    }
    const result = validateScenarioText(text);
    const diagnostics = [...result.errors, ...result.warnings].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    for (const diagnostic of diagnostics) process.stdout.write(`${format(file, diagnostic)}\n`);
    if (!result.valid) failed = true;
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
