import { readFile } from 'node:fs/promises';
import { ConfigNotObjectError } from './errors.js';
import { parseLenientJson, type JsonObject, type JsonValue } from './lenient-json.js';

/**
 * Reads a diffusers / transformers JSON file (config.json, scheduler_config.json, model_index.json,
 * tokenizer_config.json …). These are written by Python's json module, so NaN / Infinity / -Infinity
 * may appear as bare values; they come back as the JavaScript numbers they name.
 */
export async function readJsonConfig(path: string): Promise<JsonObject> {
  const text = await readFile(path, 'utf8');
  return parseJsonConfig(text, path);
}

/** The same as readJsonConfig, for text already in memory; `source` names it in errors. */
export function parseJsonConfig(text: string, source: string): JsonObject {
  // Editors on Windows like to prepend a byte-order mark; it carries no meaning here.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const value = parseLenientJson(body, { source, allowNonFinite: true });
  if (!isJsonObject(value)) throw new ConfigNotObjectError(source, jsonKind(value));
  return value;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 'null', 'a boolean', 'an array', … for messages that say what was found. */
export function jsonKind(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'boolean': return 'a boolean';
    case 'number': return 'a number';
    case 'string': return 'a string';
    default: return 'an object';
  }
}
