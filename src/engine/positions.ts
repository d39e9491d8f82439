/** Where things are in the original JSON text: JSON pointers to line and column. */
import { findNodeAtLocation, type Node } from 'jsonc-parser';

export interface Position {
  line: number;
  column: number;
}

/** JSON pointer for path segments ("/steps/ask~1name/next_step"). */
export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export class SourceMap {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly text: string,
    readonly root: Node | undefined,
  ) {
    for (let index = 0; index < text.length; index += 1) {
      if (text[index] === '\n') this.lineStarts.push(index + 1);
    }
  }

  /** 1-based line and column (in UTF-16 units, as editors count) of a text offset. */
  positionAt(offset: number): Position {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - this.lineStarts[low] + 1 };
  }

  /**
   * The node at a path, or its nearest existing ancestor. For a missing property the ancestor
   * object is returned, so the message still points somewhere useful.
   */
  nodeAt(segments: readonly (string | number)[]): Node | undefined {
    if (!this.root) return undefined;
    for (let length = segments.length; length >= 0; length -= 1) {
      const node = findNodeAtLocation(this.root, segments.slice(0, length));
      if (node) return node;
    }
    return this.root;
  }

  /** Position of a path: a primitive value's own position, an object's or array's key. */
  positionOf(segments: readonly (string | number)[]): Position | undefined {
    const node = this.nodeAt(segments);
    if (!node) return undefined;
    const property = node.parent?.type === 'property' ? node.parent : undefined;
    const isContainer = node.type === 'object' || node.type === 'array';
    return this.positionAt(isContainer && property ? property.offset : node.offset);
  }

  /** Position of the key of a property (for unknown keys). */
  keyPosition(segments: readonly (string | number)[]): Position | undefined {
    const node = this.nodeAt(segments);
    if (!node) return undefined;
    return this.positionAt(node.parent?.type === 'property' ? node.parent.offset : node.offset);
  }

  /**
   * Position of a character inside a string value: `index` counts decoded characters, and escapes
   * in the raw text (\", \\, \uXXXX) are skipped over so the column lands on the right spot.
   */
  positionInString(segments: readonly (string | number)[], index: number): Position | undefined {
    const node = this.nodeAt(segments);
    if (!node || node.type !== 'string' || segments.length === 0 || findNodeAtLocation(this.root!, segments as (string | number)[]) !== node) {
      return this.positionOf(segments);
    }
    let raw = node.offset + 1;
    for (let decoded = 0; decoded < index && raw < node.offset + node.length - 1; decoded += 1) {
      if (this.text[raw] === '\\') raw += this.text[raw + 1] === 'u' ? 6 : 2;
      else raw += 1;
    }
    return this.positionAt(raw);
  }
}
