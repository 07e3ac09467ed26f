// The compact string form of guidance specs, for the command line.

import { GuidanceSpecError } from './errors.js';
import { validateGuidance, type ConditioningSchedule, type ConditioningSwitch, type GuidanceSpec } from './guidance.js';

/**
 * Parses a compact guidance spec. Grammar (clauses separated by commas, each
 * at most once, no spaces):
 *
 *     spec   := head ("," clause)*
 *     head   := "none"                     one branch, no guidance
 *             | "cfg:" scale                classifier-free guidance
 *             | "cfgpp:" scale              CFG++ with λ = scale
 *             | "apg:" scale                adaptive projected guidance
 *     scale  := num | num "->" num          constant, or a linear ramp first → last step
 *     clause := "drop@" at ":" ("cond" | "uncond")   from step `at` on, only that branch
 *             | "interval:" num "-" num     guidance only for steps ⌊from·N⌋ ≤ i < ⌊to·N⌋
 *             | "sigma:" num "-" num        guidance only where σ̃ ∈ (from, to]
 *             | "rescale:" num              guidance rescale φ ∈ [0, 1]
 *             | "cond:" sched               the conditional branch's conditioning
 *             | ("uncond:" | "neg:") sched  the unconditional one (a negative prompt)
 *             | "eta:" num | "norm:" num | "momentum:" num     APG's η, r, β
 *     at     := integer step | fraction "0.x" (step ⌊f·N⌋)
 *     sched  := name ("|" name "@" at)*    switch conditioning at increasing steps
 *             | "[" name ":" name ":" num "]"   A1111 prompt editing [a:b:when]
 *     name   := characters other than , | @ [ ] : and whitespace
 *
 * Examples: `cfg:7.5`, `cfg:7.5,drop@30:uncond`, `cfg:7.5,drop@0.6:cond`,
 * `cfg:7.5,interval:0.2-0.8`, `cfg:7.5,rescale:0.7`, `cfg:7->3`,
 * `cfg:7.5,neg:negative`, `cfg:7.5,cond:a|b@10`, `cfg:7.5,cond:[a:b:0.4]`,
 * `cfgpp:0.6`, `apg:10,eta:0,norm:15,momentum:-0.5`, `none,cond:a`.
 * Problems that need the step count (a switch past the last step) are
 * reported when the spec is applied to sampler rows.
 */
export function parseGuidance(text: string): GuidanceSpec {
  const fail = (at: number, expected: string, found: string): never => {
    throw new GuidanceSpecError(text, `character ${at}`, expected, found === '' ? 'nothing' : JSON.stringify(found));
  };
  if (/\s/.test(text)) fail(text.search(/\s/), 'no whitespace', text.match(/\s/)![0]);
  const clauses: { text: string; at: number }[] = [];
  let offset = 0;
  for (const part of text.split(',')) {
    clauses.push({ text: part, at: offset });
    offset += part.length + 1;
  }
  const head = clauses[0]!;
  const spec: Record<string, unknown> = {};
  const headMatch = /^(cfg|cfgpp|apg):(.*)$/.exec(head.text);
  if (head.text === 'none') spec['kind'] = 'none';
  else if (headMatch) {
    spec['kind'] = headMatch[1];
    spec['scale'] = parseScale(headMatch[2]!, head.at + headMatch[1]!.length + 1, fail);
  } else fail(head.at, "'none', 'cfg:SCALE', 'cfgpp:SCALE' or 'apg:SCALE'", head.text);

  const seen = new Map<string, number>();
  const apgParams: Record<string, number> = {};
  for (const clause of clauses.slice(1)) {
    const key = clauseKey(clause.text);
    const canonical = key === 'neg' ? 'uncond' : key;
    if (key === undefined) {
      fail(clause.at, 'a clause drop@, interval:, sigma:, rescale:, cond:, uncond:, neg:, eta:, norm: or momentum:', clause.text);
    }
    if (seen.has(canonical!)) fail(clause.at, `'${canonical}' at most once (first given at character ${seen.get(canonical!)})`, clause.text);
    seen.set(canonical!, clause.at);
    const body = clause.text.slice(key === 'drop' ? 5 : key!.length + 1);
    const bodyAt = clause.at + (key === 'drop' ? 5 : key!.length + 1);
    switch (key) {
      case 'drop': {
        const m = /^([^:]*):(.*)$/.exec(body);
        if (!m) return fail(bodyAt, 'drop@STEP:cond or drop@STEP:uncond', clause.text);
        const start = parseAt(m[1]!, bodyAt, fail);
        if (m[2] !== 'cond' && m[2] !== 'uncond') fail(bodyAt + m[1]!.length + 1, "'cond' or 'uncond' (the branch that survives)", m[2]!);
        spec['drop'] = { ...start, keep: m[2] };
        break;
      }
      case 'interval':
      case 'sigma': {
        const m = /^([^-]*)-(.*)$/.exec(body);
        if (!m) return fail(bodyAt, `${key}:FROM-TO`, body);
        const from = parseNumber(m[1]!, bodyAt, fail, 'a number ≥ 0');
        const to = parseNumber(m[2]!, bodyAt + m[1]!.length + 1, fail, 'a number');
        if (!(to > from)) fail(bodyAt + m[1]!.length + 1, `an end above the start ${from}`, m[2]!);
        if (key === 'interval' && !(to <= 1)) fail(bodyAt + m[1]!.length + 1, 'a fraction of the run ≤ 1 (use sigma:LO-HI for noise levels)', m[2]!);
        spec['interval'] = { from, to, by: key === 'interval' ? 'progress' : 'sigma' };
        break;
      }
      case 'rescale':
        spec['rescale'] = parseNumber(body, bodyAt, fail, 'a number φ in [0, 1]');
        break;
      case 'cond':
      case 'uncond':
      case 'neg':
        spec[canonical!] = parseSchedule(body, bodyAt, fail);
        break;
      case 'eta':
      case 'norm':
      case 'momentum':
        if (spec['kind'] !== 'apg') fail(clause.at, `'${key}:' only after an 'apg:' head`, clause.text);
        apgParams[key] = parseNumber(body, bodyAt, fail, 'a number', true);
        break;
    }
  }
  if (spec['kind'] === 'apg') spec['apg'] = { eta: apgParams['eta'] ?? 0, normThreshold: apgParams['norm'] ?? 0, momentum: apgParams['momentum'] ?? 0 };
  return validateGuidance(spec, text);
}

/** The compact form of a spec (the JSON text where the compact form cannot say it, e.g. per-step scale lists). */
export function formatGuidance(spec: GuidanceSpec): string {
  if (Array.isArray(spec.scale)) return JSON.stringify(spec);
  const parts: string[] = [];
  const scale = spec.scale as number | { from: number; to: number } | undefined;
  parts.push(spec.kind === 'none' ? 'none' : `${spec.kind}:${typeof scale === 'number' ? scale : `${scale!.from}->${scale!.to}`}`);
  if (spec.cond !== undefined && spec.cond !== 'cond') parts.push(`cond:${formatSchedule(spec.cond)}`);
  if (spec.uncond !== undefined && spec.uncond !== 'uncond') parts.push(`uncond:${formatSchedule(spec.uncond)}`);
  if (spec.drop) parts.push(`drop@${spec.drop.fromStep ?? spec.drop.fromFraction}:${spec.drop.keep}`);
  if (spec.interval) parts.push(`${spec.interval.by === 'sigma' ? 'sigma' : 'interval'}:${spec.interval.from}-${spec.interval.to}`);
  if (spec.rescale !== undefined) parts.push(`rescale:${spec.rescale}`);
  if (spec.apg) {
    if (spec.apg.eta !== 0) parts.push(`eta:${spec.apg.eta}`);
    if (spec.apg.normThreshold !== 0) parts.push(`norm:${spec.apg.normThreshold}`);
    if (spec.apg.momentum !== 0) parts.push(`momentum:${spec.apg.momentum}`);
  }
  return parts.join(',');
}

type Fail = (at: number, expected: string, found: string) => never;

function clauseKey(clause: string): string | undefined {
  if (clause.startsWith('drop@')) return 'drop';
  const m = /^([a-z]+):/.exec(clause);
  const key = m?.[1];
  return key !== undefined && ['interval', 'sigma', 'rescale', 'cond', 'uncond', 'neg', 'eta', 'norm', 'momentum'].includes(key) ? key : undefined;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

function parseNumber(text: string, at: number, fail: Fail, expected: string, signed = false): number {
  if (!NUMBER.test(text) || (!signed && text.startsWith('-'))) return fail(at, expected, text);
  return Number(text);
}

function parseScale(text: string, at: number, fail: Fail): number | { from: number; to: number } {
  const ramp = /^(.*)->(.*)$/.exec(text);
  if (ramp) {
    return {
      from: parseNumber(ramp[1]!, at, fail, 'a scale ≥ 0'),
      to: parseNumber(ramp[2]!, at + ramp[1]!.length + 2, fail, 'a scale ≥ 0'),
    };
  }
  return parseNumber(text, at, fail, 'a scale ≥ 0 or FROM->TO');
}

/** An integer is a step index; a decimal fraction below 1 is a fraction of the run. */
function parseAt(text: string, at: number, fail: Fail): { fromStep: number } | { fromFraction: number } {
  if (/^\d+$/.test(text)) return { fromStep: Number(text) };
  if (/^0?\.\d+$/.test(text) && Number(text) > 0) return { fromFraction: Number(text) };
  return fail(at, 'a step (integer ≥ 0) or a fraction of the run (0.x)', text);
}

const NAME = /^[^,|@[\]:\s]+$/;

function parseSchedule(text: string, at: number, fail: Fail): ConditioningSchedule {
  const edit = /^\[([^:]*):([^:]*):([^\]]*)\]$/.exec(text);
  if (edit) {
    const [, a, b, when] = edit as unknown as [string, string, string, string];
    if (!NAME.test(a)) fail(at + 1, 'a conditioning name', a);
    if (!NAME.test(b)) fail(at + 2 + a.length, 'a conditioning name', b);
    const whenAt = at + 3 + a.length + b.length;
    const w = parseNumber(when, whenAt, fail, 'a step ≥ 1 or a fraction in (0, 1)');
    if (!(w > 0)) fail(whenAt, 'a step ≥ 1 or a fraction in (0, 1)', when);
    return [{ name: a, fromStep: 0 }, w < 1 ? { name: b, fromFraction: w } : { name: b, fromStep: Math.floor(w) }];
  }
  const entries: ConditioningSwitch[] = [];
  let offset = at;
  text.split('|').forEach((part, i) => {
    if (i === 0) {
      if (!NAME.test(part)) fail(offset, 'a conditioning name', part);
      entries.push({ name: part });
    } else {
      const m = /^([^@]*)@(.*)$/.exec(part);
      if (!m) return fail(offset, 'NAME@STEP after a "|"', part);
      if (!NAME.test(m[1]!)) fail(offset, 'a conditioning name', m[1]!);
      entries.push({ name: m[1]!, ...parseAt(m[2]!, offset + m[1]!.length + 1, fail) });
    }
    offset += part.length + 1;
  });
  return entries.length === 1 ? entries[0]!.name : [{ name: entries[0]!.name, fromStep: 0 }, ...entries.slice(1)];
}

function formatSchedule(schedule: ConditioningSchedule): string {
  if (typeof schedule === 'string') return schedule;
  return schedule
    .map((e, i) => (i === 0 ? e.name : `${e.name}@${e.fromStep ?? e.fromFraction}`))
    .join('|');
}
