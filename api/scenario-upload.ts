import type { Context, Middleware } from 'koa';
import multer from '@koa/multer';
import { findNodeAtLocation, type Node, type ParseError, parseTree } from 'jsonc-parser';
import { z } from 'zod';
import { validateScenario, validateScenarioText } from '../src/engine';
import type { Diagnostic, ValidationContext, ValidationResult } from '../src/engine/types';
import { AppError, badRequest } from '../src/errors';
import { uploadedFile } from './schemas';
import { visibleName } from './validation';

export const UPLOAD_MODES = ['new_version', 'replace', 'merge'] as const;
export type UploadMode = (typeof UPLOAD_MODES)[number];

/** Scenario files are small documents; anything larger is a mistake. */
export const MAX_SCENARIO_FILE_BYTES = 1024 * 1024;

const JSON_TYPES = new Set(['application/json', 'text/json', 'text/plain', 'application/octet-stream']);

export const uploadFields = z.strictObject({
  file: uploadedFile('the scenario JSON file (UTF-8, at most 1 MiB)'),
  mode: z.enum(UPLOAD_MODES).default('new_version'),
  name: visibleName().optional().describe('scenario name; default: the file’s "name"'),
});

/** multipart/form-data with one file: 415 for another media type, 413 over the size limit. */
export function scenarioMultipart(): Middleware {
  const parser = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_SCENARIO_FILE_BYTES, files: 1, fields: 10, fieldSize: 10_000 } }).single(
    'file',
  );
  return async (ctx, next) => {
    if (!ctx.is('multipart/form-data')) {
      throw new AppError(415, 'unsupported_media_type', 'Upload the scenario as multipart/form-data with the file in the field "file".');
    }
    try {
      await parser(ctx, () => Promise.resolve());
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'LIMIT_FILE_SIZE') throw new AppError(413, 'payload_too_large', `The scenario file is larger than ${MAX_SCENARIO_FILE_BYTES} bytes.`);
      if (code?.startsWith('LIMIT_')) throw badRequest(`The upload breaks a limit: ${(error as Error).message}.`);
      throw badRequest(`The multipart body could not be read: ${(error as Error).message}.`);
    }
    await next();
  };
}

/** The uploaded file as text; 415 unless it is JSON (or text) in UTF-8. */
export function uploadedText(ctx: Context): string {
  const file = (ctx as unknown as { file?: { buffer: Buffer; mimetype: string } }).file;
  if (!file) throw badRequest('The multipart body has no field "file".');
  const mime = file.mimetype.split(';')[0].trim().toLowerCase();
  if (!JSON_TYPES.has(mime) && !mime.endsWith('+json')) {
    throw new AppError(415, 'unsupported_media_type', `A scenario file is JSON; got ${mime}.`, { media_type: mime });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.buffer);
  } catch {
    throw new AppError(415, 'unsupported_media_type', 'The scenario file is not UTF-8 text.');
  }
  if (text.includes('\u0000')) throw new AppError(415, 'unsupported_media_type', 'The scenario file is binary, not JSON text.');
  return text.replace(/^\uFEFF/, '');
}

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `merge`: the uploaded document is laid over the latest version. Its `steps` and `variables` are
 * merged by key (an uploaded step replaces the step of the same id whole; a step set to `null` is
 * removed), `settings` are merged key by key, and any other top-level field it has replaces the
 * base's.
 */
export function mergeScenario(base: JsonObject, overlay: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if ((key === 'steps' || key === 'variables' || key === 'settings') && isObject(value) && isObject(base[key])) {
      const combined: JsonObject = { ...base[key] };
      for (const [id, item] of Object.entries(value)) {
        if (item === null && key !== 'settings') delete combined[id];
        else combined[id] = item;
      }
      merged[key] = combined;
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

/** Line and column (1-based) in `text` of the node at `pointer`, or of its nearest ancestor there. */
function positionIn(text: string, root: Node | undefined, pointer: string): { line: number; column: number } | undefined {
  if (!root) return undefined;
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let n = segments.length; n >= 0; n--) {
    const node = findNodeAtLocation(
      root,
      segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
    );
    const at = node?.parent?.type === 'property' ? node.parent.offset : node?.offset;
    if (at === undefined) continue;
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    return { line, column: at - before.lastIndexOf('\n') };
  }
  return undefined;
}

/**
 * A scenario sent to be checked, not stored: the file itself, or `{"scenario_data": ...}` as a
 * scenario is created. Positions are in the text as sent either way: around `scenario_data` the
 * text is blanked (line breaks kept), so the validator reads the scenario alone, where it stands.
 */
export function validateSentScenario(text: string, context: ValidationContext): ValidationResult {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const wrapped = !errors.length && root?.type === 'object' ? findNodeAtLocation(root, ['scenario_data']) : undefined;
  if (!wrapped) return validateScenarioText(text, context);
  const blank = (part: string) => part.replace(/[^\r\n]/g, ' ');
  const end = wrapped.offset + wrapped.length;
  return validateScenarioText(blank(text.slice(0, wrapped.offset)) + text.slice(wrapped.offset, end) + blank(text.slice(end)), context);
}

export interface UploadValidation {
  result: ValidationResult;
  /** The document to store. */
  data?: JsonObject;
  /** The document's text for export: the upload itself, or the merged document written out. */
  sourceText: string | null;
}

/**
 * Validates an upload. For `new_version` and `replace` the file is the whole scenario and positions
 * come straight from it; for `merge` the merged document is validated and each diagnostic points
 * into the uploaded file where its path is there (else at the nearest part of the file, or nowhere).
 */
export function validateUpload(text: string, mode: UploadMode, context: ValidationContext, base?: JsonObject): UploadValidation {
  if (mode !== 'merge') {
    const result = validateScenarioText(text, context);
    return { result, data: result.scenario as unknown as JsonObject | undefined, sourceText: text };
  }
  const syntax = validateScenarioText(text);
  const root = parseTree(text);
  const overlay = syntax.errors.some((e) => e.code === 'json_syntax') || !root ? undefined : (JSON.parse(text) as unknown);
  if (!isObject(overlay)) {
    const errors = syntax.errors.filter((e) => e.code === 'json_syntax');
    return {
      result: {
        valid: false,
        errors: errors.length
          ? errors
          : [{ severity: 'error', code: 'invalid_type', path: '', line: 1, column: 1, message: 'a scenario to merge must be a JSON object' }],
        warnings: [],
      },
      sourceText: null,
    };
  }
  const merged = mergeScenario(base ?? {}, overlay);
  const result = validateScenario(merged, context);
  const locate = (d: Diagnostic): Diagnostic => {
    const at = positionIn(text, root, d.path);
    return { ...d, line: at?.line, column: at?.column };
  };
  return {
    result: { ...result, errors: result.errors.map(locate), warnings: result.warnings.map(locate) },
    data: result.scenario as unknown as JsonObject | undefined,
    sourceText: `${JSON.stringify(merged, null, 2)}\n`,
  };
}
