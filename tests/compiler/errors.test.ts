// Every error path of compile and run: the error's class and its message (what was expected, what was
// found, where). Dawn's validation errors surface as typed errors instead of hangs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k from '../../dsl/index.js';
import { compile } from '../../runtime/compile.js';
import { DeviceLimitError, GpuValidationError } from '../../runtime/errors.js';
import { MissingWeightsError } from '../../runtime/weights.js';
import { emptyCache, openTestDevice, randomData } from '../support/gpu.js';

const dev = await openTestDevice();
const opts = () => ({ autotune: false, cache: emptyCache() });

async function rejectsWith(p: Promise<unknown>, type: new (...a: never[]) => Error, message: string | RegExp): Promise<Error> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    assert.ok(e instanceof type, `expected ${type.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    if (typeof message === 'string') assert.equal((e as Error).message, message);
    else assert.match((e as Error).message, message);
    return true;
  });
  return caught as Error;
}

test('run rejects feeds of the wrong size, unknown input names and arrays for scalars, with FeedError', async () => {
  const x = k.input('x', [2, 3]), s = k.input('s', []);
  const exe = await compile(dev, [k.mul(x, s)], opts());
  try {
    await rejectsWith(exe.run({ x: randomData(5, 1) }), k.FeedError, "run: input 'x' [2,3] needs 6 values, found 5");
    await rejectsWith(exe.run({ y: [1] }), k.FeedError, "run: no input named 'y'; inputs are x, s");
    await rejectsWith(exe.run({ s: [1, 2] }), k.FeedError, "run: input 's' is a scalar, found 2 values");
    await rejectsWith(exe.run({ x: 3 }), k.FeedError, "run: input 'x' [2,3] needs 6 values, found 1");
  } finally {
    exe.destroy();
  }
});

test('MissingWeightsError lists every missing and every mis-sized parameter, and only those', async () => {
  const x = k.input('x', [2, 4]);
  const y = k.linear(k.linear(x, k.param('a.weight', [3, 4]), k.param('a.bias', [3])), k.param('b.weight', [5, 3]), k.param('b.bias', [5]));
  const weights = { 'a.weight': randomData(12, 1), 'a.bias': randomData(2, 2), 'b.bias': randomData(5, 3) };
  const e = await rejectsWith(compile(dev, [y], { ...opts(), weights }), MissingWeightsError,
    '2 parameter(s) have no usable value:\n  a.bias: expected [3], found 2 values\n  b.weight: expected [5,3], missing');
  assert.deepEqual((e as MissingWeightsError).problems.map((p) => p.name), ['a.bias', 'b.weight']);
  // No weights at all: all four.
  const all = await rejectsWith(compile(dev, [y], opts()), MissingWeightsError, /^4 parameter\(s\) have no usable value:/);
  assert.deepEqual((all as MissingWeightsError).problems.map((p) => p.name).sort(), ['a.bias', 'a.weight', 'b.bias', 'b.weight']);
});

test('unknown capture names fail at compile time (listing the known ones) and at read time', async () => {
  const x = k.input('x', [2, 4]);
  const h = k.tag(k.exp(x), 'h');
  const a = k.attention(h, h, h, { probsName: 'probs' });
  await rejectsWith(compile(dev, [a], { ...opts(), captures: ['h', 'nope', 'also'] }), k.ShapeError,
    "compile: no intermediate named 'nope', 'also' in this graph; known names: h, probs");
  const exe = await compile(dev, [a], { ...opts(), captures: ['h'] });
  try {
    await rejectsWith(exe.readCapture('probs'), k.FeedError, "no capture named 'probs' was compiled; compiled captures: h");
    await rejectsWith(exe.run({ x: randomData(8, 1) }, { captures: ['nope'] }), k.FeedError, "no capture named 'nope' was compiled; compiled captures: h");
  } finally {
    exe.destroy();
  }
});

test('compiling a graph with unbound symbolic dims is a ShapeError that says to pass dims', async () => {
  const x = k.input('x', ['B', 3]);
  await rejectsWith(compile(dev, [k.exp(x)], opts()), k.ShapeError, "compile: input 'x' has unbound symbolic dims [B,3]; pass dims: { … }");
  await rejectsWith(compile(dev, [k.exp(x)], { ...opts(), dims: { T: 2 } }), k.ShapeError, "compile: input 'x' has unbound symbolic dims [B,3]; pass dims: { … }");
});

test('one input name used for two different shapes in one graph is a ShapeError naming both', async () => {
  const y = k.add(k.sum(k.input('x', [2, 3])), k.sum(k.input('x', [4])));
  await rejectsWith(compile(dev, [y], opts()), k.ShapeError, "input 'x' is declared twice with different shapes: [2,3] and [4]");
});

test('feedback into something that is not a same-sized tensor input is refused at compile time', async () => {
  const x = k.input('x', [4]), s = k.input('s', []);
  const y = k.mul(x, s);
  await rejectsWith(compile(dev, [y], { ...opts(), feedback: { z: y } }), k.ArgumentError, "compile: feedback target 'z' is not a tensor input of this graph");
  await rejectsWith(compile(dev, [y], { ...opts(), feedback: { s: y } }), k.ArgumentError, "compile: feedback target 's' is not a tensor input of this graph");
  await rejectsWith(compile(dev, [y], { ...opts(), feedback: { x: k.sum(y, 0, true) } }), k.ArgumentError,
    "compile: feedback into 'x' has 1 values, the input holds 4");
});

test('graphs that exceed the adapter limits fail with DeviceLimitError before anything is allocated', async () => {
  const maxBuffer = Math.min(dev.limits.maxStorageBufferBindingSize, dev.limits.maxBufferSize);
  const n = Math.floor(maxBuffer / 4) + 1;
  await rejectsWith(compile(dev, [k.exp(k.input('huge', [n]))], opts()), DeviceLimitError,
    new RegExp(`needs a ${n * 4}-byte buffer; this adapter allows ${maxBuffer} bytes per buffer$`));
  // One pointwise kernel reading more buffers than a shader stage may bind.
  const maxBindings = dev.limits.maxStorageBuffersPerShaderStage;
  const xs: k.Tensor[] = Array.from({ length: maxBindings }, (_, i) => k.input(`x${i}`, [3]));
  const total = xs.reduce((acc, x) => k.add(acc, x));
  await rejectsWith(compile(dev, [total], opts()), DeviceLimitError,
    new RegExp(`reads ${maxBindings} buffers; this adapter binds at most ${maxBindings - 1} per kernel$`));
});

test('Dawn validation errors surface as GpuValidationError, not as hangs: running a destroyed executable', async () => {
  const x = k.input('x', [4]);
  const exe = await compile(dev, [k.exp(x)], opts());
  await exe.run({ x: [1, 2, 3, 4] });
  exe.destroy();
  await rejectsWith(exe.run(), GpuValidationError, /^running the compiled graph: .*destroyed/s);
});

test('Device.scoped turns a validation error inside it into a GpuValidationError prefixed by what was being done', async () => {
  await rejectsWith(
    dev.scoped('making a mappable storage buffer', () => dev.gpu.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE })),
    GpuValidationError, /^making a mappable storage buffer: .*MapRead/s);
  // And the device still works afterwards.
  assert.equal(await dev.scoped('a fine buffer', () => dev.gpu.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE }).size), 4);
});

test('running with an input that never received a value is a FeedError, not a silent zero', async () => {
  const x = k.input('x', [3]), s = k.input('s', []);
  const exe = await compile(dev, [k.mul(x, s)], opts());
  await rejectsWith(exe.run({ x: [1, 2, 3] }), k.FeedError, "run: input 's' never received a value; feed it in run() or setInputs()");
  const r = await exe.run({ s: 2 });
  assert.deepEqual([...r.outputs[0]], [2, 4, 6]);
  exe.destroy();
});
