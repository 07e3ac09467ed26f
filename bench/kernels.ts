/**
 * Kernel benchmark: kiln's autotuned kernel, kiln's naive baseline and TF.js's WebGPU backend, side by
 * side in one run on the same Dawn adapter, for three Stable-Diffusion-shaped workloads:
 *   1. f32 matmul 1024³
 *   2. conv2d 1×320×64×64 → 320, 3×3, pad 1
 *   3. attention, B·H = 16, N = 1024, d = 40
 *
 *   npx tsx bench/kernels.ts [--quick] [--runs N] [--only matmul,conv2d,attention]
 *
 * Prints a table and writes bench/results/kernels-<adapter-slug>.json. Each implementation is warmed up
 * once, then timed runs are taken round-robin across the implementations of an op (so load drift on a
 * shared machine hits them alike) and the median is reported. Kiln runs wait for the GPU without a
 * readback; TF.js runs end with `await data()` (a readback of the output, a few MB, included).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attention, attentionProbs, conv2d, input, matmul } from '../dsl/index.js';
import type { Tensor } from '../dsl/node.js';
import { AutotuneCache } from '../runtime/autotune.js';
import { compile, type CompileOptions } from '../runtime/compile.js';
import { Device } from '../runtime/device.js';
import { median } from './report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argValue = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(argValue('--runs') ?? (quick ? 1 : 3));
const ONLY = argValue('--only')?.split(',');

// A fresh autotuning cache, so the autotuner measures every variant in this run.
const cacheDir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
process.env.KILN_CACHE_DIR = cacheDir;

type Impl = {
  name: string;
  /** Which kernel variants ran (kiln) or a short description (TF.js). */
  detail: string;
  run: () => Promise<void>;
  /** The output, read once after the warm-up, to check the implementations agree. */
  output: () => Promise<Float32Array>;
  dispose: () => void;
  autotune?: Record<string, { variant: string; ms: Record<string, number> }>;
};

type OpSpec = {
  op: string;
  shape: string;
  flops: number;
  impls: () => Promise<Impl[]>;
};


/** Deterministic values in [-1, 1): the same inputs go to every implementation. */
function randomData(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ---------- kiln ----------
const dev = await Device.open();
log(`adapter: ${dev.description} (cpu rasteriser: ${dev.isCpu})`);

async function kilnImpl(
  op: string, name: string, outputs: Tensor[], feeds: Record<string, Float32Array>, o: CompileOptions,
): Promise<Impl> {
  const cache = new AutotuneCache(join(cacheDir, `${op}-${name.replace(/\W+/g, '_')}.json`));
  const t0 = performance.now();
  const exe = await compile(dev, outputs, { ...o, cache });
  log(`  compiled ${name} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${exe.stats.kernels.map((k) => k.variant).join(', ')}`);
  exe.setInputs(feeds);
  // The measurements that decided the choice, as saved in the cache file.
  let autotune: Impl['autotune'];
  try {
    const file = JSON.parse(readFileSync(cache.path, 'utf8')) as { adapters: Record<string, Impl['autotune']> };
    autotune = file.adapters[dev.description];
  } catch {
    autotune = undefined; // nothing measured (a single candidate, or autotune off)
  }
  return {
    name,
    detail: exe.stats.kernels.map((k) => `${k.label.split(' ')[0]}:${k.variant}`).join(' + '),
    run: async () => { await exe.run({}, { read: false }); },
    output: async () => (await exe.run({}, { read: true })).outputs[0],
    dispose: () => exe.destroy(),
    autotune,
  };
}

// ---------- TF.js on the same Dawn adapter ----------
type TF = typeof import('@tensorflow/tfjs-core');
async function openTf(): Promise<{ tf: TF; adapter: string } | undefined> {
  try {
    const webgpu = (await import('webgpu')) as unknown as { create: (o: string[]) => GPU; globals: Record<string, unknown> };
    for (const [k, v] of Object.entries(webgpu.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: webgpu.create([]) }, configurable: true, writable: true });
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
    await tf.ready();
    const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
    return { tf, adapter: [info?.vendor, info?.architecture].filter(Boolean).join(' / ') };
  } catch (e) {
    log(`TF.js WebGPU backend unavailable: ${(e as Error).message}`);
    return undefined;
  }
}
const tfEnv = await openTf();
if (tfEnv) log(`TF.js ${tfEnv.tf.version_core} webgpu backend, adapter ${tfEnv.adapter}`);

function tfImpl(detail: string, build: (tf: TF) => { inputs: import('@tensorflow/tfjs-core').Tensor[]; f: () => import('@tensorflow/tfjs-core').Tensor }): Impl[] {
  if (!tfEnv) return [];
  const { tf } = tfEnv;
  const { inputs, f } = build(tf);
  const once = async () => {
    const y = f();
    const d = (await y.data()) as Float32Array;
    y.dispose();
    return d;
  };
  return [{
    name: 'tfjs-webgpu',
    detail,
    run: async () => { await once(); },
    output: once,
    dispose: () => inputs.forEach((t) => t.dispose()),
  }];
}

// ---------- the workloads ----------
const ops: OpSpec[] = [
  (() => {
    const M = 1024, N = 1024, K = 1024;
    const A = randomData(M * K, 1), B = randomData(K * N, 2);
    return {
      op: 'matmul', shape: `${M}x${K} · ${K}x${N}`, flops: 2 * M * N * K,
      impls: async () => {
        const a = input('a', [M, K]), b = input('b', [K, N]);
        return [
          await kilnImpl('matmul', 'kiln autotuned', [matmul(a, b)], { a: A, b: B }, { autotune: true }),
          await kilnImpl('matmul', 'kiln naive', [matmul(a, b)], { a: A, b: B }, { autotune: false, variants: { matmul: ['naive'] } }),
          ...tfImpl('tf.matMul', (tf) => {
            const ta = tf.tensor2d(A, [M, K]), tb = tf.tensor2d(B, [K, N]);
            return { inputs: [ta, tb], f: () => tf.matMul(ta, tb) };
          }),
        ];
      },
    };
  })(),
  (() => {
    const n = 1, cin = 320, h = 64, w = 64, cout = 320, k = 3;
    const X = randomData(n * cin * h * w, 3), W = randomData(cout * cin * k * k, 4).map((v) => v * 0.05);
    return {
      op: 'conv2d', shape: `${n}x${cin}x${h}x${w} → ${cout}, ${k}x${k}, pad 1`, flops: 2 * n * cout * h * w * cin * k * k,
      impls: async () => {
        const x = input('x', [n, cin, h, w]), wt = input('w', [cout, cin, k, k]);
        const y = conv2d(x, wt, undefined, { padding: 1 });
        return [
          await kilnImpl('conv2d', 'kiln autotuned', [y], { x: X, w: W }, { autotune: true }),
          await kilnImpl('conv2d', 'kiln naive', [y], { x: X, w: W }, { autotune: false, variants: { conv2d: ['naive'] } }),
          ...tfImpl('tf.conv2d NHWC (inputs transposed once, outside the timing)', (tf) => {
            const tx = tf.tidy(() => tf.transpose(tf.tensor4d(X, [n, cin, h, w]), [0, 2, 3, 1]));
            const tw = tf.tidy(() => tf.transpose(tf.tensor4d(W, [cout, cin, k, k]), [2, 3, 1, 0]));
            // NHWC output, transposed back to NCHW only for the correctness check below.
            return { inputs: [tx, tw], f: () => tf.conv2d(tx as import('@tensorflow/tfjs-core').Tensor4D, tw as import('@tensorflow/tfjs-core').Tensor4D, 1, 'same') };
          }),
        ];
      },
    };
  })(),
  (() => {
    const bh = 16, N = 1024, d = 40, scale = 1 / Math.sqrt(d);
    const Q = randomData(bh * N * d, 5), K = randomData(bh * N * d, 6), V = randomData(bh * N * d, 7);
    return {
      op: 'attention', shape: `BH=${bh}, N=${N}, d=${d}`, flops: 2 * bh * N * N * d * 2,
      impls: async () => {
        const q = input('q', [bh, N, d]), k = input('k', [bh, N, d]), v = input('v', [bh, N, d]);
        const feeds = { q: Q, k: K, v: V };
        const unfused = matmul(attentionProbs(q, k, scale), v);
        return [
          await kilnImpl('attention', 'kiln fused', [attention(q, k, v, { scale })], feeds, { autotune: true }),
          await kilnImpl('attention', 'kiln naive unfused', [unfused], feeds, { autotune: false, variants: { matmul: ['naive'] } }),
          ...(quick ? [] : [await kilnImpl('attention', 'kiln unfused autotuned', [unfused], feeds, { autotune: true })]),
          ...tfImpl('matMul(q,kᵀ)·scale → softmax → matMul(·,v)', (tf) => {
            const tq = tf.tensor3d(Q, [bh, N, d]), tk = tf.tensor3d(K, [bh, N, d]), tv = tf.tensor3d(V, [bh, N, d]);
            return { inputs: [tq, tk, tv], f: () => tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale)), tv)) };
          }),
        ];
      },
    };
  })(),
];

/** NHWC → NCHW for comparing TF.js's conv output with kiln's. */
function nhwcToNchw(a: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    out[((b * c + ch) * h + y) * w + x] = a[((b * h + y) * w + x) * c + ch];
  }
  return out;
}

function maxRelDiff(a: Float32Array, ref: Float32Array): number {
  if (a.length !== ref.length) return Infinity;
  let scale = 0, diff = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    diff = Math.max(diff, Math.abs(a[i] - ref[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

type Row = {
  op: string; shape: string; impl: string; detail: string; gflop: number;
  ms: number; runsMs: number[]; gflops: number; vsTfjs: number | null; maxRelDiffVsFirst: number;
  /** CPU time of this process per run (median): on lavapipe the rasteriser's threads run in-process, so this is
   *  the work done, much less sensitive to other load on the machine than wall time. Meaningless on a real GPU. */
  cpuMs: number; runsCpuMs: number[]; gflopPerCpuS: number;
  autotune?: Impl['autotune'];
};
const rows: Row[] = [];
const load: Record<string, number[]> = { start: loadavg() };
const t0 = performance.now();

for (const spec of ops) {
  if (ONLY && !ONLY.includes(spec.op)) continue;
  log(`${spec.op} [${spec.shape}]: building`);
  const impls = await spec.impls();
  const ref: Float32Array[] = [];
  for (const im of impls) {
    const t = performance.now();
    await im.run(); // warm-up
    log(`  warm-up ${im.name}: ${(performance.now() - t).toFixed(0)} ms`);
    let out = await im.output();
    if (im.name === 'tfjs-webgpu' && spec.op === 'conv2d') out = nhwcToNchw(out, 1, 64, 64, 320);
    ref.push(out);
  }
  const times = impls.map(() => [] as number[]);
  const cpuTimes = impls.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    for (const [i, im] of impls.entries()) {
      const c = process.cpuUsage();
      const t = performance.now();
      await im.run();
      times[i].push(performance.now() - t);
      const cu = process.cpuUsage(c);
      cpuTimes[i].push((cu.user + cu.system) / 1000);
    }
  }
  const tfMs = impls.findIndex((im) => im.name === 'tfjs-webgpu');
  const msOf = (i: number) => median(times[i]);
  for (const [i, im] of impls.entries()) {
    const ms = msOf(i);
    rows.push({
      op: spec.op, shape: spec.shape, impl: im.name, detail: im.detail, gflop: spec.flops / 1e9,
      ms, runsMs: times[i], gflops: spec.flops / ms / 1e6,
      cpuMs: median(cpuTimes[i]), runsCpuMs: cpuTimes[i], gflopPerCpuS: spec.flops / median(cpuTimes[i]) / 1e6,
      vsTfjs: tfMs >= 0 ? msOf(tfMs) / ms : null,
      maxRelDiffVsFirst: maxRelDiff(ref[i], ref[0]),
      ...(im.autotune ? { autotune: im.autotune } : {}),
    });
    im.dispose();
  }
  load[`after ${spec.op}`] = loadavg();
}
load.end = loadavg();

// ---------- report ----------
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const header = `${pad('op', 10)} ${pad('impl', 24)} ${lpad('ms', 10)} ${lpad('GFLOP/s', 8)} ${lpad('×TF.js', 7)} ${lpad(dev.isCpu ? 'GF/cpu-s' : '', 8)} ${lpad('err', 8)}  kernels`;
console.log(`\nkiln kernel benchmark: ${dev.description}; median of ${RUNS} run(s) after 1 warm-up`);
console.log(`load average (1/5/15 min) at start ${load.start.map((v) => v.toFixed(2)).join('/')}, at end ${load.end.map((v) => v.toFixed(2)).join('/')} on ${cpus().length} CPUs`);
console.log(header);
console.log('-'.repeat(header.length + 20));
for (const r of rows) {
  console.log(
    `${pad(r.op, 10)} ${pad(r.impl, 24)} ${lpad(r.ms.toFixed(1), 10)} ${lpad(r.gflops.toFixed(2), 8)} ${lpad(r.vsTfjs === null ? '-' : `${r.vsTfjs.toFixed(2)}×`, 7)} ${lpad(dev.isCpu ? r.gflopPerCpuS.toFixed(2) : '', 8)} ${lpad(r.maxRelDiffVsFirst.toExponential(1), 8)}  ${r.impl === 'tfjs-webgpu' ? '' : r.detail}`,
  );
  if (r.autotune) {
    for (const [sig, e] of Object.entries(r.autotune)) {
      const ms = Object.entries(e.ms).sort((a, b) => a[1] - b[1]).map(([v, t]) => `${v} ${t.toFixed(1)}`).join(', ');
      console.log(`${' '.repeat(12)}autotune ${sig} → ${e.variant} (ms: ${ms})`);
    }
  }
}
console.log('×TF.js: TF.js time / this time (above 1 is faster than TF.js). err: max |Δ| / max |first row| vs the op\'s first row.');
if (dev.isCpu) console.log('GF/cpu-s: GFLOP per CPU-second of this process (the CPU rasteriser runs in-process): robust to other load.');

const slugOf = (x: string) => x.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60).replace(/-$/, '');
const slug = slugOf([dev.adapterInfo.vendor, dev.adapterInfo.device].filter(Boolean).join(' ')) || slugOf(dev.description) || 'unknown';
const here = dirname(fileURLToPath(import.meta.url));
const outPath = join(here, 'results', `kernels-${slug}${quick ? '-quick' : ''}.json`);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify({
  bench: 'kernels',
  date: new Date().toISOString(),
  adapter: dev.description,
  tfjsAdapter: tfEnv?.adapter ?? null,
  tfjsVersion: tfEnv?.tf.version_core ?? null,
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadavg: load,
  note: 'loadavg is os.loadavg() (1/5/15 min); the machine may be shared, so compare ratios within one run, not absolute times across runs',
  quick,
  runs: RUNS,
  timing: 'ms/gflops: median wall-clock ms after 1 warm-up, runs interleaved across implementations; kiln waits for queue completion (no readback), TF.js awaits data() (readback included); cpuMs: median process CPU time per run (CPU rasterisers only)',
  totalSeconds: (performance.now() - t0) / 1000,
  results: rows,
}, null, 1)}\n`);
console.log(`wrote ${outPath}`);

rmSync(cacheDir, { recursive: true, force: true });
dev.destroy();
process.exit(0);
