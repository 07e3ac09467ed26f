// Executables keep state between runs the way a sampling loop needs: inputs persist, feedback copies an
// output into an input on the GPU, scalars change per run without recompiling, symbolic dims bind at
// compile time, and autotuning measures once and remembers its choice on disk.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as k from '../../dsl/index.js';
import { autotuneCachePath } from '../../runtime/autotune.js';
import { compile, defaultVariant } from '../../runtime/compile.js';
import { F32_TOL, assertClose, emptyCache, expectRunMatches, openTestDevice, randomData } from '../support/gpu.js';

const dev = await openTestDevice();
const opts = () => ({ autotune: false, cache: emptyCache() });

test('inputs keep their values between runs; a feed updates only the inputs it names', async () => {
  const x = k.input('x', [3, 5]), c = k.input('c', [5]);
  const y = k.mul(k.add(x, c), 2);
  const exe = await compile(dev, [y], opts());
  try {
    const x1 = randomData(15, 1), x2 = randomData(15, 2), c1 = randomData(5, 3);
    await expectRunMatches(exe, [y], { x: x1, c: c1 });
    // c is not fed again: the first value is still there.
    const got = (await exe.run({ x: x2 })).outputs[0];
    assertClose(got, k.evaluate([y], { x: x2, c: c1 })[0], F32_TOL, 'after feeding x only');
    // Nothing fed: the same result again.
    assertClose((await exe.run()).outputs[0], got, 0, 'after feeding nothing');
  } finally {
    exe.destroy();
  }
});

test('feedback copies an output into an input on the GPU after each run: x ← 2x three times is 8x', async () => {
  const x = k.input('x', [7, 3]);
  const y = k.mul(x, 2);
  const exe = await compile(dev, [y], { ...opts(), feedback: { x: y } });
  try {
    const x0 = randomData(21, 4);
    const outs: Float32Array[] = [];
    outs.push((await exe.run({ x: x0 })).outputs[0]);
    outs.push((await exe.run()).outputs[0]);
    outs.push((await exe.run({}, { read: false })).outputs[0] ?? (await exe.read(exe.program.outputs[0])));
    outs.forEach((o, i) => assertClose(o, x0.map((v) => v * 2 ** (i + 1)), 0, `run ${i + 1}`));
    assertClose(await exe.read(exe.program.inputs.get('x')!), x0.map((v) => v * 8), 0, 'the input after three runs');
  } finally {
    exe.destroy();
  }
});

test('a feedback-only output (not among the returned outputs) still updates its input', async () => {
  const x = k.input('x', [4]);
  const next = k.add(x, 1);
  const shown = k.mul(x, 10);
  const exe = await compile(dev, [shown], { ...opts(), feedback: { x: next } });
  try {
    const r1 = await exe.run({ x: [0.5, 1.5, 2.5, 3.5] });
    assert.equal(r1.outputs.length, 1);
    assertClose(r1.outputs[0], [5, 15, 25, 35], 0, 'run 1 sees the fed x');
    assertClose((await exe.run()).outputs[0], [15, 25, 35, 45], 0, 'run 2 sees x + 1');
  } finally {
    exe.destroy();
  }
});

test('per-run scalars (uniforms) change results without recompiling; unfed scalars keep their value', async () => {
  const x = k.input('x', [5, 17]), w = k.input('w', [17, 9]), s = k.input('s', []), t = k.input('t', []);
  const y = k.add(k.mul(k.matmul(x, w), s), t);
  const exe = await compile(dev, [y], opts());
  try {
    const xv = randomData(85, 1), wv = randomData(153, 2);
    const before = { dispatches: exe.stats.dispatches, compileMs: exe.stats.compileMs };
    await expectRunMatches(exe, [y], { x: xv, w: wv, s: 0.5, t: -1 });
    const got = (await exe.run({ s: 3 })).outputs[0];
    assertClose(got, k.evaluate([y], { x: xv, w: wv, s: 3, t: -1 })[0], F32_TOL, 's changed, t kept');
    await expectRunMatches(exe, [y], { x: xv, w: wv, s: -2, t: [0.25] });
    assert.deepEqual({ dispatches: exe.stats.dispatches, compileMs: exe.stats.compileMs }, before);
    assert.equal(exe.stats.dispatches, 1, 'the scalars live in the matmul epilogue');
  } finally {
    exe.destroy();
  }
});

test('more scalars than fit one vec4 of the uniform buffer each land in their own slot', async () => {
  const x = k.input('x', [9]);
  const s = Array.from({ length: 7 }, (_, i) => k.input(`s${i}`, []));
  const y = k.add(k.sub(k.add(k.mul(x, s[0]), s[1]), k.mul(s[2], s[3])), k.div(k.mul(s[4], s[6]), s[5]));
  const exe = await compile(dev, [y], opts());
  try {
    const scalars = Object.fromEntries(s.map((_, i) => [`s${i}`, [1.5, -2, 0.25, 3, 5, -4, 0.75][i]]));
    await expectRunMatches(exe, [y], { x: randomData(9, 1), ...scalars });
    await expectRunMatches(exe, [y], { x: randomData(9, 1), ...scalars, s5: 8, s6: -1 });
  } finally {
    exe.destroy();
  }
});

test('symbolic dims are bound with `dims` at compile time; one graph compiles for several sizes', async () => {
  const x = k.input('x', ['B', 'T', 8]), w = k.param('w', [8, 5]);
  const m = k.matmul(k.reshape(k.gelu(x), ['B', 'T', 8]), w);
  const y = k.sub(m, k.max(m, -1, true));
  const wv = randomData(40, 9);
  for (const dims of [{ B: 2, T: 3 }, { B: 1, T: 17 }]) {
    const exe = await compile(dev, [y], { ...opts(), dims, weights: { w: wv } });
    try {
      assert.deepEqual(exe.program.outputs[0].shape, [dims.B, dims.T, 5]);
      await expectRunMatches(exe, [y], { x: randomData(dims.B * dims.T * 8, dims.T) }, { params: { w: wv }, dims });
    } finally {
      exe.destroy();
    }
  }
});

test('run options: read: false skips the readback, captures: [] reads no captures', async () => {
  const x = k.input('x', [6]);
  const h = k.tag(k.exp(x), 'h');
  const exe = await compile(dev, [k.add(h, 1)], { ...opts(), captures: ['h'] });
  try {
    const r = await exe.run({ x: randomData(6, 1) }, { read: false });
    assert.deepEqual(r.outputs, []);
    assert.equal((await exe.run({}, { captures: [] })).captures.size, 0);
    assert.equal((await exe.run()).captures.size, 1);
  } finally {
    exe.destroy();
  }
});

test('autotuning measures the variants, writes the cache file, and a second compile uses the cached choice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-autotune-'));
  const saved = process.env.KILN_CACHE_DIR;
  process.env.KILN_CACHE_DIR = dir;
  try {
    const path = autotuneCachePath();
    assert.equal(path, join(dir, 'autotune.json'));
    const a = k.input('a', [17, 33]), b = k.input('b', [33, 9]);
    const y = k.matmul(a, b);
    const feeds = { a: randomData(17 * 33, 1), b: randomData(33 * 9, 2) };
    const candidates = ['rb4x4', 'rb8x4'];
    const first = await compile(dev, [y], { autotune: true, measureFlops: 0, variants: { matmul: candidates } });
    const chosen = first.stats.kernels[0].variant;
    assert.ok(candidates.includes(chosen));
    await expectRunMatches(first, [y], feeds);
    first.destroy();

    assert.ok(existsSync(path), 'the cache file is written');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const entries = file.adapters[dev.description];
    assert.ok(entries, `the cache is keyed by the adapter description '${dev.description}'`);
    const [signature, entry] = Object.entries(entries as Record<string, { variant: string; ms: Record<string, number> }>)[0];
    assert.equal(signature, 'gemm:1x17x9x33');
    assert.equal(entry.variant, chosen);
    assert.deepEqual(Object.keys(entry.ms).sort(), candidates);
    assert.ok(Object.values(entry.ms).every((ms) => Number.isFinite(ms) && ms > 0));

    // Flip the remembered choice: a second compile must follow the file instead of measuring again.
    const other = candidates.find((v) => v !== chosen)!;
    entry.variant = other;
    writeFileSync(path, JSON.stringify(file));
    const second = await compile(dev, [y], { autotune: true, measureFlops: 0, variants: { matmul: candidates } });
    assert.equal(second.stats.kernels[0].variant, other);
    await expectRunMatches(second, [y], feeds);
    second.destroy();
    // A kernel below the measuring threshold is not measured: it takes the adapter's default.
    const small = await compile(dev, [k.matmul(k.input('a', [3, 5]), k.input('b', [5, 7]))], { autotune: true, variants: { matmul: candidates } });
    assert.equal(small.stats.kernels[0].variant, defaultVariant(dev, candidates, 2 * 3 * 5 * 7));
    small.destroy();
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).adapters[dev.description][signature].variant, other, 'nothing was re-measured');
  } finally {
    if (saved === undefined) delete process.env.KILN_CACHE_DIR;
    else process.env.KILN_CACHE_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
