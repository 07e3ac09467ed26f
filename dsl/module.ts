import { ArgumentError } from './errors.js';
import { type DType, Tensor } from './node.js';
import { param } from './ops/sources.js';
import type { Shape } from './shape.js';

/** A parameter declared by shape and dtype; it gets its name from its path in the module tree. */
export interface ParamSpec {
  readonly kind: 'param';
  readonly shape: Shape;
  readonly dtype: DType;
}

export type Spec = ParamSpec | ModuleDef<any, any[], any> | readonly Spec[] | undefined;
export type Children = Record<string, Spec>;

/** A spec tree of parameters plus a pure function of the bound tree and the inputs. */
export interface ModuleDef<C extends Children, A extends unknown[], R> {
  readonly kind: 'module';
  readonly children: C;
  readonly forward: (p: Bound<C>, ...args: A) => R;
}

export type BoundSpec<S> = S extends ParamSpec
  ? Tensor
  : S extends ModuleDef<any, infer A, infer R>
    ? (...args: A) => R
    : S extends readonly (infer E)[]
      ? BoundSpec<E>[]
      : S extends undefined
        ? undefined
        : never;

export type Bound<C extends Children> = { readonly [K in keyof C]: BoundSpec<C[K]> };

export const paramSpec = (shape: Shape, dtype: DType = 'f32'): ParamSpec => ({ kind: 'param', shape, dtype });

export function module<C extends Children, A extends unknown[], R>(
  children: C,
  forward: (p: Bound<C>, ...args: A) => R,
): ModuleDef<C, A, R> {
  return { kind: 'module', children, forward };
}

const join = (prefix: string, key: string) => (prefix ? `${prefix}.${key}` : key);

const isModule = (s: Spec): s is ModuleDef<any, any[], any> => !!s && !Array.isArray(s) && (s as ModuleDef<any, any[], any>).kind === 'module';
const isParam = (s: Spec): s is ParamSpec => !!s && !Array.isArray(s) && (s as ParamSpec).kind === 'param';

function bindSpec(s: Spec, path: string): unknown {
  if (s === undefined) return undefined;
  if (isParam(s)) return param(path, s.shape, s.dtype);
  if (Array.isArray(s)) return s.map((e, i) => bindSpec(e, join(path, String(i))));
  if (isModule(s)) return instantiate(s, path);
  throw new ArgumentError(`module tree at '${path}': not a parameter, module or list`);
}

/** Bind a module's parameters under `prefix` (their names = state-dict keys) and return its function. */
export function instantiate<C extends Children, A extends unknown[], R>(def: ModuleDef<C, A, R>, prefix = ''): (...args: A) => R {
  const bound: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(def.children)) bound[k] = bindSpec(s, join(prefix, k));
  Object.freeze(bound);
  return (...args: A) => def.forward(bound as Bound<C>, ...args);
}

export interface ParamInfo {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Every parameter of a module tree with its full name, in declaration order. */
export function parameters(s: Spec, prefix = ''): ParamInfo[] {
  if (s === undefined) return [];
  if (isParam(s)) return [{ name: prefix, shape: s.shape, dtype: s.dtype }];
  if (Array.isArray(s)) return (s as readonly Spec[]).flatMap((e, i) => parameters(e, join(prefix, String(i))));
  if (isModule(s)) return Object.entries(s.children as Children).flatMap(([k, c]) => parameters(c, join(prefix, k)));
  return [];
}

export const parameterCount = (s: Spec): number =>
  parameters(s).reduce((n, p) => n + p.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : NaN), 1), 0);
