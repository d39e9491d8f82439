/** Collecting diagnostics, positioned in the source text. */
import type { SourceMap } from './positions';
import { toPointer } from './positions';
import { closestMatch } from './suggest';
import type { Diagnostic, Scenario, ValidationResult } from './types';

export type Path = (string | number)[];

export class Report {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];

  constructor(readonly source: SourceMap) {}

  add(
    severity: Diagnostic['severity'],
    code: string,
    path: Path,
    message: string,
    options: { suggestion?: string; textIndex?: number; atKey?: boolean } = {},
  ): void {
    const position =
      options.textIndex !== undefined
        ? this.source.positionInString(path, options.textIndex)
        : options.atKey
          ? this.source.keyPosition(path)
          : this.source.positionOf(path);
    const diagnostic: Diagnostic = { severity, code, path: toPointer(path), message };
    if (position) Object.assign(diagnostic, position);
    if (options.suggestion !== undefined) diagnostic.suggestion = options.suggestion;
    (severity === 'error' ? this.errors : this.warnings).push(diagnostic);
  }

  error(code: string, path: Path, message: string, options?: { suggestion?: string; textIndex?: number; atKey?: boolean }): void {
    this.add('error', code, path, message, options);
  }

  warning(code: string, path: Path, message: string, options?: { suggestion?: string; textIndex?: number; atKey?: boolean }): void {
    this.add('warning', code, path, message, options);
  }

  result(scenario?: Scenario): ValidationResult {
    const byPosition = (a: Diagnostic, b: Diagnostic) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
    const result: ValidationResult = {
      valid: this.errors.length === 0,
      errors: [...this.errors].sort(byPosition),
      warnings: [...this.warnings].sort(byPosition),
    };
    if (scenario && result.valid) result.scenario = scenario;
    return result;
  }
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closestMatch(word, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}
