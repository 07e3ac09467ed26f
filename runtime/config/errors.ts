import { KilnError } from '../../dsl/errors.js';

/** Where in a JSON text a problem sits; `offset` counts UTF-16 code units from the start of the text. */
export interface JsonTextPosition {
  readonly source: string;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** The text is not JSON (nor Python's JSON dialect with NaN / Infinity, where that is allowed). */
export class JsonSyntaxError extends KilnError {
  constructor(
    readonly position: JsonTextPosition,
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      `${position.source}:${position.line}:${position.column} (offset ${position.offset}): ` +
        `expected ${expected}, found ${found}`,
    );
  }
}

/** A config file parsed, but its top level is not the JSON object every diffusers/transformers config is. */
export class ConfigNotObjectError extends KilnError {
  constructor(
    readonly source: string,
    readonly foundKind: string,
  ) {
    super(`${source}: expected a JSON object at the top level, found ${foundKind}`);
  }
}
