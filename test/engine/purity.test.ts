import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The engine runs inside the Temporal workflow sandbox: no I/O, clock, randomness, Node builtins or
 * code generation. This scans the source so a careless import fails here rather than in a replay.
 */
const ENGINE = join(__dirname, '../../src/engine');
const ALLOWED_IMPORTS = new Set(['zod', 'jsonc-parser', 'libphonenumber-js/min', 're2js']);

const FORBIDDEN: [RegExp, string][] = [
  [/Date\.now\s*\(/, 'Date.now()'],
  [/new Date\s*\(\s*\)/, 'new Date()'],
  [/Math\.random/, 'Math.random'],
  [/\beval\s*\(/, 'eval'],
  [/new Function\b/, 'new Function'],
  [/\bprocess\./, 'process'],
  [/\brequire\s*\(/, 'require'],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, 'timers'],
  [/\b(Buffer|TextEncoder|TextDecoder|crypto)\b/, 'Node or web builtins'],
];

describe('src/engine stays pure', () => {
  const files = readdirSync(ENGINE).filter((file) => file.endsWith('.ts'));

  it.each(files)('%s', (file) => {
    const source = readFileSync(join(ENGINE, file), 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const [pattern, name] of FORBIDDEN) expect({ file, uses: pattern.test(code) ? name : null }).toEqual({ file, uses: null });
    for (const match of code.matchAll(/from\s+'([^']+)'/g)) {
      const target = match[1];
      expect({ file, import: target, allowed: target.startsWith('./') || ALLOWED_IMPORTS.has(target) }).toEqual({ file, import: target, allowed: true });
    }
  });
});
