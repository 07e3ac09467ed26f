// Reading config.json objects into typed configs: one place for defaults and typed errors.
import { KilnError } from '../../dsl/index.js';

/** A config field is missing, has the wrong type, or asks for a feature kiln does not implement. */
export class ConfigError extends KilnError {
  constructor(readonly where: string, readonly field: string, readonly expected: string, readonly found: unknown) {
    super(`${where}: field '${field}': expected ${expected}, found ${describe(found)}`);
  }
}

const describe = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

export type Json = Readonly<Record<string, unknown>>;

/** Typed accessors over one config object; `where` names it in errors (e.g. 'unet/config.json'). */
export function fields(json: Json, where: string) {
  const get = <T>(key: string, ok: (v: unknown) => v is T, expected: string, fallback?: T): T => {
    const v = json[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (!ok(v)) throw new ConfigError(where, key, expected, v);
    return v;
  };
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const isInt = (v: unknown): v is number => Number.isInteger(v);
  const isStr = (v: unknown): v is string => typeof v === 'string';
  const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
  const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);
  const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
  return {
    num: (k: string, d?: number) => get(k, isNum, 'a number', d),
    int: (k: string, d?: number) => get(k, isInt, 'an integer', d),
    str: (k: string, d?: string) => get(k, isStr, 'a string', d),
    bool: (k: string, d?: boolean) => get(k, isBool, 'a boolean', d),
    ints: (k: string, d?: number[]) => get(k, isIntList, 'a list of integers', d),
    strs: (k: string, d?: string[]) => get(k, isStrList, 'a list of strings', d),
    /** An integer, or a per-block list of `n` integers (diffusers accepts both). */
    perBlock: (k: string, n: number, d?: number): number[] => {
      const v = json[k] ?? d;
      if (isInt(v)) return Array(n).fill(v);
      if (isIntList(v) && v.length === n) return [...v];
      throw new ConfigError(where, k, `an integer or a list of ${n} integers`, v);
    },
    /** A field kiln does not implement must hold its neutral value. */
    neutral: (k: string, ...allowed: unknown[]) => {
      const v = json[k];
      if (v === undefined || allowed.some((a) => a === v)) return;
      throw new ConfigError(where, k, `${allowed.map(describe).join(' or ')} (other values are not implemented)`, v);
    },
  };
}
