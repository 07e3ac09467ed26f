import { JsonSyntaxError, type JsonTextPosition } from './errors.js';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

export interface JsonParseOptions {
  /** Named in error messages: usually the file path. */
  readonly source?: string;
  /**
   * Accept Python's json extensions `NaN`, `Infinity` and `-Infinity` as bare values (default true):
   * diffusers writes them, e.g. `"lambda_min_clipped": -Infinity`.
   */
  readonly allowNonFinite?: boolean;
  /** What a repeated object key does. Python's json and JSON.parse keep the last one (default). */
  readonly duplicateKeys?: 'last-wins' | 'error';
  /** Nesting limit, so hostile input fails with an error instead of exhausting the stack. */
  readonly maxDepth?: number;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t',
};

/**
 * Strict JSON plus (optionally) the three non-finite literals Python emits. Hand-written rather than a
 * regex pre-pass over the text: a pre-pass cannot tell `NaN` the value from "NaN" inside a string,
 * and JSON.parse has no way to produce NaN at all.
 */
export function parseLenientJson(text: string, options: JsonParseOptions = {}): JsonValue {
  const source = options.source ?? '<json>';
  const allowNonFinite = options.allowNonFinite ?? true;
  const rejectDuplicates = options.duplicateKeys === 'error';
  const maxDepth = options.maxDepth ?? 1000;
  let at = 0;

  const fail = (expected: string, offset = at, found = describeAt(text, offset)): never => {
    throw new JsonSyntaxError(positionOf(text, offset, source), expected, found);
  };

  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      else return;
    }
  };

  const literal = (word: string, value: JsonValue): JsonValue => {
    if (!text.startsWith(word, at)) fail(`'${word}'`);
    at += word.length;
    return value;
  };

  const nonFinite = (word: string, value: number): number => {
    if (!allowNonFinite) fail('a JSON value (NaN and Infinity are not JSON)');
    literal(word, value);
    return value;
  };

  const parseNumber = (): number => {
    if (text.startsWith('-Infinity', at)) return nonFinite('-Infinity', -Infinity);
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (match === null) return fail('a number');
    at += match[0].length;
    return Number(match[0]);
  };

  const parseString = (): string => {
    const start = at;
    at++; // opening quote
    let out = '';
    let runStart = at;
    for (;;) {
      const c = text.charCodeAt(at);
      if (Number.isNaN(c)) fail('a closing \'"\'', at, `end of text (string opened at offset ${start})`);
      if (c === 0x22) {
        out += text.slice(runStart, at);
        at++;
        return out;
      }
      if (c < 0x20) fail('a string character (control characters must be escaped)');
      if (c !== 0x5c) {
        at++;
        continue;
      }
      out += text.slice(runStart, at);
      const escape = text[at + 1];
      if (escape === 'u') {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('four hex digits after \\u', at + 2);
        out += String.fromCharCode(parseInt(hex, 16));
        at += 6;
      } else if (escape !== undefined && Object.hasOwn(ESCAPES, escape)) {
        out += ESCAPES[escape];
        at += 2;
      } else {
        fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)', at);
      }
      runStart = at;
    }
  };

  const parseValue = (depth: number): JsonValue => {
    skipWhitespace();
    const c = text[at];
    switch (c) {
      case '{': return parseObject(depth + 1);
      case '[': return parseArray(depth + 1);
      case '"': return parseString();
      case 't': return literal('true', true);
      case 'f': return literal('false', false);
      case 'n': return literal('null', null);
      case 'N': return nonFinite('NaN', NaN);
      case 'I': return nonFinite('Infinity', Infinity);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
        return fail('a JSON value');
    }
  };

  const checkDepth = (depth: number): void => {
    if (depth > maxDepth) fail(`at most ${maxDepth} levels of nesting`, at, 'deeper nesting');
  };

  const parseArray = (depth: number): JsonValue[] => {
    checkDepth(depth);
    at++;
    const items: JsonValue[] = [];
    skipWhitespace();
    if (text[at] === ']') {
      at++;
      return items;
    }
    for (;;) {
      items.push(parseValue(depth));
      skipWhitespace();
      const c = text[at];
      at++;
      if (c === ']') return items;
      if (c !== ',') fail("',' or ']' after an array item", at - 1);
    }
  };

  const parseObject = (depth: number): JsonObject => {
    checkDepth(depth);
    at++;
    const object: Record<string, JsonValue> = {};
    skipWhitespace();
    if (text[at] === '}') {
      at++;
      return object;
    }
    for (;;) {
      skipWhitespace();
      if (text[at] !== '"') fail('a string key');
      const keyOffset = at;
      const key = parseString();
      skipWhitespace();
      if (text[at] !== ':') fail(`':' after key ${JSON.stringify(key)}`);
      at++;
      const value = parseValue(depth);
      if (Object.hasOwn(object, key)) {
        if (rejectDuplicates) fail('each key once', keyOffset, `key ${JSON.stringify(key)} again`);
      }
      // Plain assignment to "__proto__" would replace the prototype instead of storing a key.
      if (key === '__proto__') {
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        object[key] = value;
      }
      skipWhitespace();
      const c = text[at];
      at++;
      if (c === '}') return object;
      if (c !== ',') fail("',' or '}' after an object member", at - 1);
    }
  };

  const value = parseValue(0);
  skipWhitespace();
  if (at < text.length) fail('end of text after the value');
  return value;
}

/** Line and column (both 1-based) of an offset, for messages a person can jump to. */
export function positionOf(text: string, offset: number, source: string): JsonTextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { source, offset, line, column: offset - lineStart + 1 };
}

function describeAt(text: string, offset: number): string {
  if (offset >= text.length) return 'end of text';
  const snippet = text.slice(offset, offset + 20);
  return `${JSON.stringify(text[offset])} (text there: ${JSON.stringify(snippet)})`;
}
