import { KilnError } from '../dsl/errors.js';
import { type Shape, fmtShape } from '../dsl/shape.js';

/** Parameter values by name: a map, a record, or a function (which may generate them). */
export type WeightSource =
  | ReadonlyMap<string, ArrayLike<number>>
  | Readonly<Record<string, ArrayLike<number>>>
  | ((name: string, shape: Shape) => ArrayLike<number> | undefined);

/** Some parameters of a graph have no value, or a value of the wrong size: all of them are listed. */
export class MissingWeightsError extends KilnError {
  constructor(readonly problems: readonly { name: string; expected: Shape; found?: number }[]) {
    super(
      `${problems.length} parameter(s) have no usable value:\n` +
        problems
          .map((p) => `  ${p.name}: expected ${fmtShape(p.expected)}${p.found === undefined ? ', missing' : `, found ${p.found} values`}`)
          .join('\n'),
    );
  }
}

export function lookupWeight(src: WeightSource | undefined, name: string, shape: Shape): ArrayLike<number> | undefined {
  if (!src) return undefined;
  if (typeof src === 'function') return src(name, shape);
  if (src instanceof Map) return src.get(name);
  return (src as Record<string, ArrayLike<number>>)[name];
}
