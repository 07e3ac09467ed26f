import { match } from 'ts-pattern';
import { KilnError } from '../../dsl/errors.js';

/** One way a weight file set disagrees with the parameters a model declares. */
export type WeightProblem =
  | { readonly kind: 'missing'; readonly name: string; readonly expectedShape: readonly number[] }
  | { readonly kind: 'unexpected'; readonly fileKey: string; readonly name: string; readonly file: string; readonly foundShape: readonly number[] }
  | {
      readonly kind: 'shape';
      readonly name: string;
      readonly fileKey: string;
      readonly file: string;
      readonly expectedShape: readonly number[];
      readonly foundShape: readonly number[];
    }
  | { readonly kind: 'dtype'; readonly name: string; readonly fileKey: string; readonly file: string; readonly dtype: string }
  | { readonly kind: 'duplicate'; readonly name: string; readonly sources: readonly { readonly file: string; readonly fileKey: string }[] };

/** Lines beyond this go to `problems` only, so a wholly wrong layout does not print a thousand lines. */
const MAX_LISTED = 200;

/**
 * Every disagreement between the weight files and the expected parameters, found before any
 * tensor data is read. The message lists them (up to 200; `problems` holds all).
 */
export class WeightMismatchError extends KilnError {
  constructor(
    readonly label: string,
    readonly problems: readonly WeightProblem[],
    expectedCount: number,
  ) {
    const counts = new Map<WeightProblem['kind'], number>();
    for (const problem of problems) counts.set(problem.kind, (counts.get(problem.kind) ?? 0) + 1);
    const summary = [...counts].map(([kind, count]) => `${count} ${kind}`).join(', ');
    const lines = problems.slice(0, MAX_LISTED).map(describeProblem);
    if (problems.length > MAX_LISTED) lines.push(`… and ${problems.length - MAX_LISTED} more (see .problems)`);
    const missing = counts.get('missing') ?? 0;
    const hint =
      expectedCount > 0 && missing === expectedCount && (counts.get('unexpected') ?? 0) > 0
        ? '\nhint: no expected name was found at all; the files probably use another layout (pass a rename function)'
        : '';
    super(`weights for ${label} do not match the model's parameters: ${problems.length} problems (${summary})\n  ${lines.join('\n  ')}${hint}`);
  }
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function describeProblem(problem: WeightProblem): string {
  return match(problem)
    .with({ kind: 'missing' }, (p) => `missing    ${p.name}: expected ${shapeText(p.expectedShape)}, not in any file`)
    .with({ kind: 'unexpected' }, (p) =>
      `unexpected ${p.fileKey}${p.name === p.fileKey ? '' : ` (as ${p.name})`} ${shapeText(p.foundShape)} in ${p.file}: no such parameter`)
    .with({ kind: 'shape' }, (p) =>
      `shape      ${p.name}: expected ${shapeText(p.expectedShape)}, found ${shapeText(p.foundShape)} (${p.fileKey} in ${p.file})`)
    .with({ kind: 'dtype' }, (p) => `dtype      ${p.name}: expected a float dtype (F32, F16, BF16, F64), found ${p.dtype} (${p.fileKey} in ${p.file})`)
    .with({ kind: 'duplicate' }, (p) =>
      `duplicate  ${p.name}: expected once, found ${p.sources.length} times (${p.sources.map((s) => `${s.fileKey} in ${s.file}`).join('; ')})`)
    .exhaustive();
}

/** No weight file with a name diffusers or transformers would use is in the folder. */
export class WeightFilesNotFoundError extends KilnError {
  constructor(
    readonly folder: string,
    readonly tried: readonly string[],
    readonly present: readonly string[],
  ) {
    const pickles = present.filter((name) => name.endsWith('.bin') || name.endsWith('.ckpt') || name.endsWith('.pt'));
    super(
      `${folder}: expected one of ${tried.join(', ')}; found ` +
        (present.length === 0 ? 'an empty folder' : present.join(', ')) +
        (pickles.length > 0 ? ` (pickle files such as ${pickles[0]} are not read: convert them to safetensors)` : ''),
    );
  }
}

/** A sharded checkpoint's *.safetensors.index.json is malformed or names shards that are not there. */
export class WeightIndexError extends KilnError {
  constructor(
    readonly indexPath: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${indexPath}: expected ${expected}, found ${found}`);
  }
}
