// The PyTorch-compatible generator reproduces torch's CPU stream bit for bit.
//
// Every expected value below was produced on this machine (Debian torch 1.13.1,
// AVX2 kernels, the build diffusers' golden data came from) by
//   OMP_NUM_THREADS=1 /usr/bin/python3 -c "import torch; torch.manual_seed(SEED); \
//     print(torch.randn(N).numpy().astype('<f4').view('<u4'))"
// printed as hex bit patterns; for longer tensors the first and last four values
// and an FNV-1a-32 hash of the little-endian float32 bytes are kept. The stream
// case used g = torch.Generator().manual_seed(42) and successive
// torch.randn(shape, generator=g) calls with the shapes listed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TorchGenerator, torchRandn } from '../../samplers/index.js';
import { RandomArgumentError } from '../../samplers/errors.js';

interface Expected {
  readonly full?: readonly string[];
  readonly head?: readonly string[];
  readonly tail?: readonly string[];
  readonly fnv?: string;
}
interface StreamCall {
  readonly shape: readonly number[];
  readonly head: readonly string[];
  readonly fnv: string;
}

const SINGLE_CALLS: Record<string, Expected> = {
  '0:1': {"full": ["3fc53f5c"]},
  '0:15': {"full": ["3fc53f5c", "be963c50", "c00b7149", "3f1184b6", "bf8ad1a1", "bfb3052d", "3ece837a", "3f5688e5", "bf382144", "bece830b", "bf18bd18", "3e3a67c6", "bf5b4f07", "3f8ce099", "bf891cab"]},
  '0:16': {"full": ["bf901b85", "bf93808a", "be804bd6", "bede255d", "3f594515", "3f312783", "bea1cc6d", "c0075fc1", "3ea50138", "bfa1b4f4", "3eb330ff", "3e9dc3bb", "3df56f77", "3f9e6b93", "3f8ef28e", "be7d367c"]},
  '0:17': {"full": ["bf901b85", "bfd91446", "3f111004", "3f4b235d", "3f194d8b", "bfc70d5b", "beaec6ca", "3fed2f4e", "3eefaa55", "bf15e32b", "be318eeb", "3e3be1a4", "3fb1d6c0", "3fcb0d00", "3f72409c", "bf57fb33", "3f6e8c30"]},
  '0:100': {"head": ["bf901b85", "bf93808a", "be804bd6", "bede255d"], "tail": ["3e535ecc", "beaab9ae", "bedb8f9b", "3e6e8222"], "fnv": "a351b57b"},
  '0:256': {"head": ["bf901b85", "bf93808a", "be804bd6", "bede255d"], "tail": ["bf5ee90d", "3e14377b", "3ff390cd", "3ec7e1f5"], "fnv": "533a8692"},
  '42:1': {"full": ["3eac62ae"]},
  '42:15': {"full": ["3eac62ae", "3e03e69d", "3e7016e7", "3e6bdc6c", "bf8fb9c2", "be3eccd8", "400d532c", "bf2353c6", "3eec5e56", "3e88e237", "3f08ef83", "3f4f3209", "3f8e1dfe", "bfd84b55", "bf7d2c7a"]},
  '42:16': {"full": ["3ff6a529", "3fbe5f53", "3f669567", "c006c0db", "3f2dacd5", "bf9e0591", "bd306786", "bfcd65ba", "bf408bf0", "3fd3095b", "bec8f2f6", "bfb3a966", "bf3a566e", "bf0f36d1", "bf44d2a0", "3f432f9f"]},
  '42:17': {"full": ["3ff6a529", "be236d85", "befeaae4", "3ee111d8", "bf4214e2", "3f8a0650", "3f4d0144", "3fd71e93", "3eb63345", "3fa5f12f", "3f1c4788", "3faad8b0", "be6d2eed", "3d2b0c00", "be80ce7a", "3f5c1fb0", "be9e9482"]},
  '42:100': {"head": ["3ff6a529", "3fbe5f53", "3f669567", "c006c0db"], "tail": ["bf7c873e", "3dfc8440", "3eb321de", "3f1e061c"], "fnv": "6ee4fea3"},
  '42:256': {"head": ["3ff6a529", "3fbe5f53", "3f669567", "c006c0db"], "tail": ["3f0a2bd0", "3f10c4f0", "3f017b91", "3e63cae4"], "fnv": "2eb2fe76"},
  '4294967301:1': {"full": ["bef93b54"]},
  '4294967301:15': {"full": ["bef93b54", "bf1a940d", "bf0edf65", "3f2ae2df", "be4a272f", "3ff8ad21", "bfb36af9", "bf4336f2", "3f219734", "bf662db9", "bf0ecb8d", "3f30d2f2", "3e63cc2f", "bf2a8dbd", "3f2f44b6"]},
  '4294967301:16': {"full": ["3febd177", "3f04d5ca", "bfdb203d", "bfd9c6cc", "40013e2b", "be8987d5", "be05dacf", "bfb7fd2d", "3ec812c6", "bc9b6247", "bfad24dc", "bf3b16e0", "3f7ce879", "bed6bca3", "bf15bbbc", "bf48471d"]},
  '4294967301:17': {"full": ["3febd177", "3f9c6b53", "beac4317", "bf770e2f", "be04c64b", "bf1a0d50", "3e147a81", "be196c4b", "4027553b", "3f477bdd", "bd6ef55c", "c001f3a2", "3fbdd0ba", "3efcf28f", "3e7f3335", "3fdf9eba", "3f3ea9b4"]},
  '4294967301:100': {"head": ["3febd177", "3f04d5ca", "bfdb203d", "bfd9c6cc"], "tail": ["3e0113b3", "3d773085", "bf1154ed", "bf8c4888"], "fnv": "c113d0da"},
  '4294967301:256': {"head": ["3febd177", "3f04d5ca", "bfdb203d", "bfd9c6cc"], "tail": ["3f5ffeed", "3eaa9462", "bf81aa19", "3f32eee2"], "fnv": "e63cacf8"},
  '9223372036854788153:1': {"full": ["3fb6ac36"]},
  '9223372036854788153:15': {"full": ["3fb6ac36", "bfef5f15", "bf991d6c", "c002d019", "bee97799", "bfb6f83c", "bf37b05e", "3fb23396", "3da603ee", "bf98c755", "bf36f236", "3fc2a1c5", "3fc2c797", "404c6950", "bcdd457a"]},
  '9223372036854788153:16': {"full": ["bfbd6a57", "3ef9802c", "c040d19d", "3ee340fd", "3eb831f7", "bc4a4fd0", "3e5fc459", "bfa40728", "401a5108", "3fffe36d", "3f48e7b7", "bf827e08", "be57a12e", "3f20787c", "3f6e87fe", "3e3f3ca2"]},
  '9223372036854788153:17': {"full": ["bfbd6a57", "bf918c62", "3aab0f30", "3fa8a11a", "bf81e5fb", "bf0af8d7", "3edc8a49", "bff67c5b", "be5babc3", "bf90d6ec", "3f5e355e", "3f3537e1", "3e52c930", "bf6e1528", "3de9f94c", "bee3daba", "3f05bd2a"]},
  '9223372036854788153:100': {"head": ["bfbd6a57", "3ef9802c", "c040d19d", "3ee340fd"], "tail": ["3fc3608d", "be77b54a", "bf4f833a", "3f8ab7a4"], "fnv": "55cad2c1"},
  '9223372036854788153:256': {"head": ["bfbd6a57", "3ef9802c", "c040d19d", "3ee340fd"], "tail": ["3f7b3279", "bed43891", "bf44d384", "3f0028ce"], "fnv": "121ae3c5"},
};

const STREAM_SEED_42: readonly StreamCall[] = [{"shape": [1, 4, 8, 8], "head": ["3ff6a529", "3fbe5f53", "3f669567"], "fnv": "2eb2fe76"}, {"shape": [1, 4, 8, 8], "head": ["bf2f7bb9", "3f104567", "bfc0eb1d"], "fnv": "48b3cc4f"}, {"shape": [3], "head": ["3d115d74", "3f8ff41d", "be3f6a31"], "fnv": "05089215"}, {"shape": [3], "head": ["3c8e0c3a", "bfb044d3", "be9cb268"], "fnv": "45407ce7"}, {"shape": [17], "head": ["bfea3c55", "bf057b7b", "bf41eef8"], "fnv": "54c07f72"}, {"shape": [5], "head": ["c002e5b3", "bfe1ccf5", "3eaaa142"], "fnv": "8bf2826f"}];

const SEEDS: Record<string, number | bigint> = {
  '0': 0,
  '42': 42,
  '4294967301': 2n ** 32n + 5n,
  '9223372036854788153': 2n ** 63n + 12345n,
};

function hexBits(values: Float32Array): string[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length), (b) => b.toString(16).padStart(8, '0'));
}

function fnv1a(values: Float32Array): string {
  let h = 0x811c9dc5;
  for (const byte of new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function assertMatches(actual: Float32Array, expected: Expected, label: string): void {
  const bits = hexBits(actual);
  if (expected.full) assert.deepEqual(bits, expected.full, label);
  if (expected.head) assert.deepEqual(bits.slice(0, expected.head.length), expected.head, `${label} head`);
  if (expected.tail) assert.deepEqual(bits.slice(-expected.tail.length), expected.tail, `${label} tail`);
  if (expected.fnv) assert.equal(fnv1a(actual), expected.fnv, `${label} hash of all values`);
}

test('torchRandn equals torch.manual_seed(seed); torch.randn(n) bit for bit on both sides of the 16-element switch', () => {
  for (const [key, expected] of Object.entries(SINGLE_CALLS)) {
    const [seedKey, size] = key.split(':') as [string, string];
    const seed = SEEDS[seedKey];
    assert.ok(seed !== undefined, `seed ${seedKey} listed`);
    assertMatches(torchRandn(seed, [Number(size)]), expected, `seed ${seedKey}, ${size} values`);
  }
});

test('the shape only matters through its element count, as for a contiguous torch tensor', () => {
  assert.deepEqual(hexBits(torchRandn(42, [1, 4, 8, 8])), hexBits(torchRandn(42, [256])));
});

test('a generator continues the stream across calls like torch.Generator, including the cached Box–Muller value', () => {
  const generator = new TorchGenerator(42);
  for (const call of STREAM_SEED_42) {
    const values = generator.randn(call.shape);
    assert.deepEqual(hexBits(values).slice(0, call.head.length), call.head, `shape ${call.shape.join('x')}`);
    assert.equal(fnv1a(values), call.fnv, `shape ${call.shape.join('x')}`);
  }
});

test('seeds are taken modulo 2^64 and only their low 32 bits seed the engine, as in torch', () => {
  assert.deepEqual(hexBits(torchRandn(2n ** 32n + 5n, [20])), hexBits(torchRandn(5, [20])));
  assert.deepEqual(hexBits(torchRandn(-1, [7])), hexBits(torchRandn(2n ** 64n - 1n, [7])));
  assert.equal(new TorchGenerator(-1).initialSeed(), 2n ** 64n - 1n);
});

test('a cloned generator produces the same continuation as the original', () => {
  const original = new TorchGenerator(7);
  original.randn([5]);
  const copy = original.clone();
  assert.deepEqual(hexBits(copy.randn([33])), hexBits(original.randn([33])));
});

test('seeds and shapes outside what torch accepts are rejected with the accepted range', () => {
  assert.throws(() => torchRandn(2n ** 64n, [1]), (e: unknown) => e instanceof RandomArgumentError && /\[−2⁶³, 2⁶⁴\)/.test(e.message));
  assert.throws(() => torchRandn(0.5, [1]), (e: unknown) => e instanceof RandomArgumentError && /safe integer/.test(e.message));
  assert.throws(() => torchRandn(0, [2, -1]), (e: unknown) => e instanceof RandomArgumentError && /shape\[1\].*non-negative integer.*-1/.test(e.message));
});

test('a Stable Diffusion-sized latent (1×4×64×64) hashes to torch’s value, so every lane of the vectorized path matches', () => {
  // torch.manual_seed(1234); torch.randn(1,4,64,64)  → FNV-1a 2c39dd1f;  (1,4,96,64) → 8a98d760
  assert.equal(fnv1a(torchRandn(1234, [1, 4, 64, 64])), '2c39dd1f');
  assert.equal(fnv1a(torchRandn(1234, [1, 4, 96, 64])), '8a98d760');
});
