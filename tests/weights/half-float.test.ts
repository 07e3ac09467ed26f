import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bfloat16BitsToFloat32, float32ToHalfBits, halfBitsToFloat32 } from '../../runtime/safetensors/half-float.js';

/** The IEEE 754 binary16 definition, evaluated in float64: an oracle that shares no code with the converter. */
function halfValueByDefinition(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const allHalves = Uint16Array.from({ length: 65536 }, (_, i) => i);

test('every one of the 65536 half bit patterns converts to exactly its IEEE value (subnormals, ±0, ±inf, NaN)', () => {
  const floats = halfBitsToFloat32(allHalves);
  for (let bits = 0; bits < 65536; bits++) {
    const expected = halfValueByDefinition(bits);
    const got = floats[bits]!;
    if (Number.isNaN(expected)) assert.ok(Number.isNaN(got), `0x${bits.toString(16)} should be NaN`);
    else assert.ok(Object.is(got, expected), `0x${bits.toString(16)}: expected ${expected}, got ${got}`);
  }
  assert.equal(floats[0x0001], 2 ** -24); // smallest subnormal
  assert.equal(floats[0x7bff], 65504); // largest finite
  assert.ok(Object.is(floats[0x8000], -0));
});

test('half → float32 → half returns every non-NaN bit pattern unchanged, and NaN stays NaN', () => {
  const back = float32ToHalfBits(halfBitsToFloat32(allHalves));
  for (let bits = 0; bits < 65536; bits++) {
    const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
    if (isNaN) assert.ok((back[bits]! & 0x7c00) === 0x7c00 && (back[bits]! & 0x3ff) !== 0, `NaN 0x${bits.toString(16)} lost`);
    else assert.equal(back[bits], bits);
  }
});

test('float32 → half rounds to the nearest half, ties to the even bit pattern', () => {
  const halfValues = halfBitsToFloat32(allHalves);
  fc.assert(
    fc.property(fc.float({ noNaN: true, min: -65504, max: 65504 }), (x) => {
      const h = float32ToHalfBits(Float32Array.of(x))[0]!;
      const value = halfValues[h]!;
      // Neighbours in magnitude: the chosen half must be at least as close as either.
      for (const neighbour of [h - 1, h + 1]) {
        if ((neighbour & 0x7fff) > 0x7bff || neighbour < 0 || (neighbour ^ h) & 0x8000) continue;
        const other = halfValues[neighbour]!;
        const distance = Math.abs(x - value);
        const otherDistance = Math.abs(x - other);
        if (otherDistance < distance) return false;
        if (otherDistance === distance && (h & 1) === 1) return false; // a tie must pick the even pattern
      }
      return true;
    }),
    { numRuns: 3000 },
  );
});

test('float32 → half: overflow goes to infinity exactly from 65520 up, and tiny values flush by the same rounding rule', () => {
  const cases: [number, number][] = [
    [65504, 0x7bff],
    [65519.99609375, 0x7bff], // just below the midpoint to the next (nonexistent) half
    [65520, 0x7c00], // the midpoint rounds to even, which is infinity
    [-1e6, 0xfc00],
    [2 ** -25, 0x0000], // exactly half the smallest subnormal: tie, even is zero
    [2 ** -25 * 1.5, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between subnormals 1 and 2: even wins
    [2 ** -14, 0x0400], // smallest normal
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2⁻¹⁰: even (1) wins
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2⁻¹⁰ and 1+2⁻⁹: even wins
  ];
  const halves = float32ToHalfBits(Float32Array.from(cases.map(([x]) => x)));
  cases.forEach(([x, expected], i) => assert.equal(halves[i], expected, `${x}`));
});

test('bfloat16 converts exactly as the top 16 bits of a float32', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
      const got = bfloat16BitsToFloat32(Uint16Array.of(bits));
      const expected = new Float32Array(new Uint32Array([bits << 16 >>> 0]).buffer);
      return Object.is(got[0], expected[0]) || (Number.isNaN(got[0]) && Number.isNaN(expected[0]));
    }),
  );
  assert.deepEqual([...bfloat16BitsToFloat32(Uint16Array.of(0x3f80, 0xc040, 0x7f80))], [1, -3, Infinity]);
});
