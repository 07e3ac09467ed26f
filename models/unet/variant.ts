// Attention variants as data: applied when the graph is built, never by copying a model file.
import { ArgumentError } from '../../dsl/index.js';

/**
 * A scale for softmax(scale·QKᵀ): a number, 'default' (1/√d), or 'entropy-aware':
 * λ/√d with λ = √(log_T N) = √(ln N / ln T), N the layer's key count now and T its key count at the model's
 * training resolution (config sample_size). Cross-attention keys are text tokens, whose count does not change
 * with resolution, so there T = N and the entropy-aware scale equals the default.
 */
export type ScaleRule = number | 'default' | 'entropy-aware';

/**
 * Substitute chosen token positions of the conditioning, in K only, V only, or both, for some cross-attention
 * layers. The substituted rows are read from a second graph input (default 'encoder_hidden_states_sub',
 * the same shape as encoder_hidden_states).
 */
export interface TokenSubstitution {
  /** Cross-attention module paths (…transformer_blocks.0.attn2), or 'all' cross-attention layers. */
  readonly layers: readonly string[] | 'all';
  readonly positions: readonly number[];
  readonly in: 'k' | 'v' | 'kv';
  readonly input?: string;
}

export interface AttentionOverrides {
  /** One rule for every attention layer, or a default plus per-layer rules keyed by module path. */
  readonly scale?: ScaleRule | { readonly default?: ScaleRule; readonly layers?: Readonly<Record<string, ScaleRule>> };
  readonly substitute?: readonly TokenSubstitution[];
}

export const SUBSTITUTE_INPUT = 'encoder_hidden_states_sub';

/** The numeric scale for one layer. `trainKeys` is undefined for cross-attention (see ScaleRule). */
export function resolveScale(o: AttentionOverrides | undefined, path: string, dimHead: number, keysNow: number, trainKeys?: number): number {
  const s = o?.scale;
  const rule: ScaleRule = s === undefined ? 'default'
    : typeof s === 'object' ? (s.layers?.[path] ?? s.default ?? 'default') : s;
  if (typeof rule === 'number') return rule;
  const base = 1 / Math.sqrt(dimHead);
  if (rule === 'default') return base;
  const T = trainKeys ?? keysNow;
  if (T === keysNow) return base;
  if (T < 2 || keysNow < 2) throw new ArgumentError(`attention '${path}': entropy-aware scale needs ≥ 2 keys (training ${T}, now ${keysNow})`);
  return Math.sqrt(Math.log(keysNow) / Math.log(T)) * base;
}

/** The substitutions that apply to one cross-attention layer: which input, which rows, for K and for V. */
export function resolveSubstitution(o: AttentionOverrides | undefined, path: string): { k?: Sub; v?: Sub } {
  const out: { k?: Sub; v?: Sub } = {};
  for (const r of o?.substitute ?? []) {
    if (r.layers !== 'all' && !r.layers.includes(path)) continue;
    const sub = { input: r.input ?? SUBSTITUTE_INPUT, positions: r.positions };
    for (const which of r.in === 'kv' ? (['k', 'v'] as const) : [r.in]) {
      if (out[which]) throw new ArgumentError(`attention '${path}': two substitutions target ${which.toUpperCase()}`);
      out[which] = sub;
    }
  }
  return out;
}

export interface Sub { readonly input: string; readonly positions: readonly number[] }

/** Every layer named by an override must exist: a typo is an error, not a silent no-op. */
export function checkOverrideLayers(o: AttentionOverrides | undefined, attentionPaths: readonly string[], crossPaths: readonly string[]): void {
  const bad: string[] = [];
  const s = o?.scale;
  if (s && typeof s === 'object') for (const k of Object.keys(s.layers ?? {})) if (!attentionPaths.includes(k)) bad.push(`scale.layers['${k}']`);
  for (const r of o?.substitute ?? []) if (r.layers !== 'all') for (const k of r.layers) if (!crossPaths.includes(k)) bad.push(`substitute layer '${k}'`);
  if (bad.length) {
    throw new ArgumentError(`attention overrides name layers that are not cross/self-attention modules of this model: ${bad.join(', ')}` +
      ` (expected paths like '${crossPaths[0] ?? attentionPaths[0] ?? '?'}')`);
  }
}
