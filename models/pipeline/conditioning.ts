import { KilnError } from '../../dsl/errors.js';
import { input, instantiate } from '../../dsl/index.js';
import { compile } from '../../runtime/compile.js';
import type { Device } from '../../runtime/device.js';
import type { Executable } from '../../runtime/executable.js';
import { clipTextModel } from '../clip/index.js';
import type { ClipTokenizer } from '../clip/tokenizer/index.js';
import type { PipelineComponents } from './components.js';

/** A named conditioning: a prompt, or a prompt whose [EOS] embeddings come from another prompt (Yi et al. §5). */
export type ConditioningSource = string | { readonly prompt: string; readonly eosFrom: string };

export class ConditioningError extends KilnError {}

export interface Embedding {
  /** [tokens, width], row-major. */
  readonly data: Float32Array;
  /** Position of the first [EOS] token. */
  readonly eosIndex: number;
}

/**
 * Text → embeddings, on the device, once per distinct prompt. The encoder is compiled for one prompt
 * ([1, L]) and reused: conditionings are few and the encoder is small next to the UNet's many steps.
 */
export class TextEncoder {
  private readonly cache = new Map<string, Embedding>();

  private constructor(private readonly tokenizer: ClipTokenizer, private readonly exe: Executable, readonly tokens: number, readonly width: number) {}

  static async create(device: Device, c: PipelineComponents, o: { autotune?: boolean } = {}): Promise<TextEncoder> {
    const L = c.tokenizer.maxLength;
    if (L > c.text.config.max_position_embeddings) {
      throw new ConditioningError(`tokenizer model_max_length ${L} exceeds the text encoder's max_position_embeddings ${c.text.config.max_position_embeddings}`);
    }
    const out = instantiate(clipTextModel(c.text.config))(input('input_ids', [1, L], 'i32'));
    const exe = await compile(device, [out.conditioning], { weights: c.text.weights, autotune: o.autotune });
    return new TextEncoder(c.tokenizer, exe, L, c.text.config.hidden_size);
  }

  async encode(prompt: string): Promise<Embedding> {
    const hit = this.cache.get(prompt);
    if (hit) return hit;
    const enc = this.tokenizer.encode(prompt);
    const { outputs } = await this.exe.run({ input_ids: enc.ids });
    const e = { data: outputs[0], eosIndex: enc.eosIndex };
    this.cache.set(prompt, e);
    return e;
  }

  /** Resolve a named conditioning to its embeddings. */
  async resolve(src: ConditioningSource): Promise<Float32Array> {
    if (typeof src === 'string') return (await this.encode(src)).data;
    const a = await this.encode(src.prompt), b = await this.encode(src.eosFrom);
    return substituteEos(a, b, this.tokens, this.width);
  }

  destroy(): void {
    this.exe.destroy();
  }
}

/**
 * Prompt A's embeddings with the [EOS] embeddings of prompt B: A's start token and words are kept; from A's first
 * [EOS] on, position eosA + i takes B's position eosB + i (the last position repeats when B runs out).
 */
export function substituteEos(a: Embedding, b: Embedding, tokens: number, width: number): Float32Array {
  if (a.eosIndex < 0 || b.eosIndex < 0) throw new ConditioningError('[EOS] substitution needs both prompts to have an end token');
  const out = Float32Array.from(a.data);
  for (let p = a.eosIndex; p < tokens; p++) {
    const q = Math.min(b.eosIndex + (p - a.eosIndex), tokens - 1);
    out.set(b.data.subarray(q * width, (q + 1) * width), p * width);
  }
  return out;
}
