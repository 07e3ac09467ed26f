// A readable table of a plan: one line per row with the timestep, the noise
// level, the branches and their weights, the row ops and the update.

import { match } from 'ts-pattern';
import { formatGuidance } from './guidance-parse.js';
import type { Plan, PlanRow } from './plan.js';

export function formatPlan(plan: Plan): string {
  const e = plan.modelEvaluations;
  const header = [
    `plan: ${plan.sampler}, ${plan.steps} steps, ${plan.rows.length} rows, guidance ${formatGuidance(plan.guidance)}`,
    `model evaluations: ${e.total} of ${e.fullCfg} for full CFG (saves ${(100 * e.savedFraction).toFixed(1)}%); ` +
      `registers: ${plan.registers}; ${start(plan)}; final level α=${num(plan.final.alpha)} σ=${num(plan.final.sigma)}`,
  ];
  const table = plan.rows.map((row, i) => [
    String(i),
    row.stage === 0 ? String(row.step) : `${row.step}.${row.stage}`,
    num(row.t),
    num(row.level.sigma / row.level.alpha),
    num(row.cIn),
    branches(row),
    ops(row),
    `${row.predict.kind} = ${num(row.predict.x)}·x ${sign(row.predict.out)}·M`,
    update(row),
  ]);
  const titles = ['row', 'step', 't', 'σ̃', 'c_in', 'branches', 'ops', 'prediction P', "x' ="];
  const widths = titles.map((t, c) => Math.max(t.length, ...table.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [...header, line(titles), ...table.map(line)].join('\n');
}

function start(plan: Plan): string {
  const s = plan.start;
  if (!s) return `x_T = ${num(plan.initNoiseSigma)}·z`;
  return `strength ${num(s.strength)}: steps ${s.skippedSteps}–${s.fullSteps - 1} of ${s.fullSteps}, x_start = ${num(s.level.alpha)}·x0 + ${num(s.level.sigma)}·z`;
}

export function printPlan(plan: Plan, write: (text: string) => void = (t) => process.stdout.write(`${t}\n`)): void {
  write(formatPlan(plan));
}

function branches(row: PlanRow): string {
  return match(row.combine)
    .with({ kind: 'weighted' }, ({ weights }) => row.branches.map((b, k) => `${b}×${num(weights[k]!)}`).join(' + '))
    .with({ kind: 'apg' }, (a) => `apg(${row.branches[a.cond]} vs ${row.branches[a.uncond]}, s=${num(a.scale)}, η=${num(a.eta)})`)
    .exhaustive();
}

function ops(row: PlanRow): string {
  const parts: string[] = [];
  if (row.rescale) parts.push(`rescale φ=${num(row.rescale.phi)}`);
  if (row.combine.kind === 'apg') {
    if (row.combine.normThreshold > 0) parts.push(`norm≤${num(row.combine.normThreshold)}`);
    if (row.combine.momentum) parts.push(`momentum β=${num(row.combine.momentum.beta)}→R${row.combine.momentum.register}`);
  }
  if (row.clip) {
    parts.push(
      match(row.clip)
        .with({ kind: 'clamp' }, (c) => `clamp ±${num(c.range)}`)
        .with({ kind: 'dynamic' }, (c) => `threshold q=${num(c.ratio)} max=${num(c.maxValue)}`)
        .exhaustive(),
    );
  }
  if (row.store !== undefined) parts.push(`P→R${row.store}`);
  return parts.join(', ') || '-';
}

function update(row: PlanRow): string {
  const u = row.update;
  const terms = [`${num(u.x)}·x`, `${sign(u.pred)}·P`];
  if (u.out !== undefined) terms.push(`${sign(u.out)}·M`);
  if (u.uncond) terms.push(`${sign(u.uncond.coef)}·O[${row.branches[u.uncond.branch]}]`);
  for (const h of u.history) terms.push(`${sign(h.coef)}·R${h.register}`);
  if (u.noise !== undefined) terms.push(`${sign(u.noise)}·z`);
  return terms.join(' ');
}

function num(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(3) : Number(v.toPrecision(5)).toString();
}

function sign(v: number): string {
  return v < 0 ? `- ${num(-v)}` : `+ ${num(v)}`;
}
