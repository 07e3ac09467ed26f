// Bad graphs fail when they are built, with an error that names the op, the operands and their shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ArgumentError, ShapeError, add, attention, concat, constant, conv2d, expand, gather, groupNorm, input, layerNorm, linear, matmul,
  pad, permute, reshape, slice, softmax, sum, transpose, where, upsampleNearest2x, chunk, param,
} from '../../dsl/index.js';

const x23 = input('x23', [2, 3]);

/** The error is exactly of class `type` and its message is exactly `message`. */
function throwsExactly(f: () => unknown, type: typeof ShapeError | typeof ArgumentError, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.equal((e as Error).name, type.name);
    assert.equal((e as Error).message, message);
    return true;
  });
}

test('matmul with different inner dimensions names both operands and the two sizes', () => {
  throwsExactly(() => matmul(x23, input('b', [4, 5])), ShapeError, 'matmul(a: [2,3], b: [4,5]): inner dimensions differ (3 ≠ 4)');
  throwsExactly(() => matmul(input('v', [3]), input('b', [3, 5])), ShapeError, 'matmul(a: [3], b: [3,5]): both operands need rank ≥ 2');
  throwsExactly(() => matmul(input('a', [2, 2, 3]), input('b', [3, 3, 4])), ShapeError,
    'matmul(a: [2,2,3], b: [3,3,4]): dimension 0 is 2 in one operand and 3 in another, and neither is 1');
});

test('linear with the wrong in-features or bias names x, w and b', () => {
  throwsExactly(() => linear(x23, param('w', [4, 5])), ShapeError, 'linear(x: [2,3], w: [4,5]): in-features 3 ≠ 5');
  throwsExactly(() => linear(x23, param('w', [4, 3]), param('b', [3])), ShapeError, 'linear(x: [2,3], w: [4,3], b: [3]): bias must be [4]');
});

test('conv2d with mismatched channels, groups, bias or a kernel larger than the input', () => {
  const x = input('x', [1, 4, 8, 8]);
  throwsExactly(() => conv2d(x, param('w', [320, 3, 3, 3])), ShapeError, 'conv2d(x: [1,4,8,8], w: [320,3,3,3]): in-channels 4/1 ≠ 3');
  throwsExactly(() => conv2d(x, param('w', [6, 2, 3, 3]), undefined, { groups: 3 }), ShapeError,
    'conv2d(x: [1,4,8,8], w: [6,2,3,3]): groups 3 must divide in-channels 4 and out-channels 6');
  throwsExactly(() => conv2d(x, param('w', [6, 4, 3, 3]), param('b', [5])), ShapeError, 'conv2d(x: [1,4,8,8], w: [6,4,3,3]): bias [5] must be [6]');
  throwsExactly(() => conv2d(x, param('w', [6, 4, 9, 9])), ShapeError, 'conv2d(x: [1,4,8,8], w: [6,4,9,9]): the kernel does not fit the padded input');
  throwsExactly(() => conv2d(input('x3', [4, 8, 8]), param('w', [6, 4, 3, 3])), ShapeError, 'conv2d(x: [4,8,8], w: [6,4,3,3]): x must be [N, C, H, W]');
  throwsExactly(() => conv2d(x, param('w', [6, 4, 3, 3]), undefined, { stride: 0 }), ArgumentError,
    'conv2d(x: [1,4,8,8], w: [6,4,3,3]): stride/dilation must be ≥ 1 and padding ≥ 0 integers');
});

test('elementwise ops that cannot broadcast name the op, both shapes and the dimension', () => {
  throwsExactly(() => add(x23, input('y', [4, 3])), ShapeError, 'add(a: [2,3], b: [4,3]): dimension 0 is 2 in one operand and 4 in another, and neither is 1');
  throwsExactly(() => where(input('c', [5]), x23, 0), ShapeError,
    'where(cond: [5], a: [2,3], b: []): dimension 1 is 5 in one operand and 3 in another, and neither is 1');
  throwsExactly(() => expand(x23, [4, 3, 3]), ShapeError, 'expand(x: [2,3] → [4,3,3]): dimension 1 is 2, cannot become 3');
});

test('reshape with a different element count, two -1s or an indivisible -1', () => {
  throwsExactly(() => reshape(x23, [4, 2]), ShapeError, 'reshape(x: [2,3] → [4,2]): element counts differ (6 ≠ 8)');
  throwsExactly(() => reshape(x23, [-1, -1]), ShapeError, 'reshape(x: [2,3] → [-1,-1]): at most one dimension may be -1');
  throwsExactly(() => reshape(x23, [4, -1]), ShapeError, 'reshape(x: [2,3] → [4,-1]): cannot infer -1, 6 elements do not divide by 4');
  throwsExactly(() => reshape(input('s', ['B', 3]), [3, 'C']), ShapeError, 'reshape(x: [B,3] → [3,C]): symbolic dimensions B ≠ C');
});

test('axes out of range are rejected by every op that takes one, naming the axis and the rank', () => {
  throwsExactly(() => sum(x23, 2), ShapeError, 'sum(x: [2,3], axes [2]): axis 2 is out of range for rank 2');
  throwsExactly(() => softmax(x23, -3), ShapeError, 'softmax(x: [2,3], axis -3): axis -3 is out of range for rank 2');
  throwsExactly(() => softmax(x23, 0), ShapeError, 'softmax(x: [2,3], axis 0): only the last axis is supported; permute first');
  throwsExactly(() => transpose(x23, 0, 5), ShapeError, 'transpose(x: [2,3], 0, 5): axis 5 is out of range for rank 2');
  throwsExactly(() => permute(x23, [0, 0]), ShapeError, 'permute(x: [2,3], perm: [0,0]): axes repeat');
  throwsExactly(() => permute(x23, [0]), ShapeError, 'permute(x: [2,3], perm: [0]): perm has 1 axes, x has rank 2');
  throwsExactly(() => slice(x23, 3, 0), ShapeError, 'slice(x: [2,3], axis 3, 0::1): axis 3 is out of range for rank 2');
  throwsExactly(() => concat([x23, x23], 2), ShapeError, 'concat([2,3], [2,3], axis 2): axis 2 is out of range for rank 2');
});

test('concat of mismatched shapes or ranks names every operand', () => {
  throwsExactly(() => concat([x23, input('y', [3, 3])], 1), ShapeError, 'concat([2,3], [3,3], axis 1): dimension 0 differs (2 vs 3)');
  throwsExactly(() => concat([x23, input('z', [2, 3, 1])], 0), ShapeError, 'concat([2,3], [2,3,1], axis 0): ranks differ');
  throwsExactly(() => concat([], 0), ArgumentError, 'concat(): needs at least one tensor');
});

test('slice, chunk, pad and upsample reject what they cannot do', () => {
  throwsExactly(() => slice(x23, 1, 3), ShapeError, 'slice(x: [2,3], axis 1, 3::1): the slice is empty');
  throwsExactly(() => slice(x23, 1, 0, 3, 0), ArgumentError, 'slice(x: [2,3], axis 1, 0:3:0): step must be a positive integer');
  throwsExactly(() => chunk(x23, 2, 1), ShapeError, 'chunk(x: [2,3], 2, axis 1): 3 does not divide into 2');
  throwsExactly(() => pad(x23, [[0, 0], [0, 0], [1, 1]]), ShapeError, 'pad(x: [2,3], [0:0,0:0,1:1]): 3 pad pairs for rank 2');
  throwsExactly(() => pad(x23, [[-1, 0]]), ArgumentError, 'pad(x: [2,3], [-1:0]): pads must be non-negative integers');
  throwsExactly(() => upsampleNearest2x(input('v', [4])), ShapeError, 'upsampleNearest2x(x: [4]): needs rank ≥ 2');
});

test('groupNorm needs channels divisible by groups and affine parameters of one per channel', () => {
  const x = input('x', [1, 6, 4, 4]);
  throwsExactly(() => groupNorm(x, 4), ShapeError, 'groupNorm(x: [1,6,4,4], groups 4): channels 6 are not divisible into 4 groups');
  throwsExactly(() => groupNorm(x, 3, param('w', [4])), ShapeError, 'groupNorm(x: [1,6,4,4], groups 3): weight [4] must be [6]');
  throwsExactly(() => groupNorm(input('v', [6]), 3), ShapeError, 'groupNorm(x: [6], groups 3): x must be [N, C, ...]');
  throwsExactly(() => layerNorm(x23, undefined, param('b', [2])), ShapeError, 'layerNorm(x: [2,3], bias: [2]): bias must be [3]');
});

test('gather needs i32 ids and a [V, D] table', () => {
  throwsExactly(() => gather(param('t', [10, 4]), input('ids', [3])), ShapeError, 'gather(table: [10,4], ids: [3]): ids must be i32, found f32');
  throwsExactly(() => gather(param('t3', [10, 4, 2]), input('ids32', [3], 'i32')), ShapeError, 'gather(table: [10,4,2], ids: [3]): table must be [V, D]');
});

test('attention with mismatched head dims, lengths or mask names q, k and v', () => {
  const q = input('q', [2, 5, 8]);
  throwsExactly(() => attention(q, input('k', [2, 7, 4]), input('v', [2, 7, 8])), ShapeError,
    'attention(q: [2,5,8], k: [2,7,4], v: [2,7,8]): q and k head dims differ (8 ≠ 4)');
  throwsExactly(() => attention(q, input('k', [2, 7, 8]), input('v', [2, 6, 8])), ShapeError,
    'attention(q: [2,5,8], k: [2,7,8], v: [2,6,8]): k and v lengths differ (7 ≠ 6)');
  throwsExactly(() => attention(q, input('k', [2, 7, 8]), input('v', [2, 7, 8]), { mask: input('m', [5, 6]) }), ShapeError,
    'attention(q: [2,5,8], k: [2,7,8], v: [2,7,8]) mask [5,6]: dimension 2 is 6 in one operand and 7 in another, and neither is 1');
});

test('inputs and params need non-negative integer dims and identifier names for symbolic ones', () => {
  throwsExactly(() => input('bad', [2, 1.5]), ShapeError, "input 'bad': dimensions must be non-negative integers, found [2,1.5]");
  throwsExactly(() => input('bad2', ['2x']), ShapeError, "input 'bad2': symbolic dimension '2x' must be an identifier");
  throwsExactly(() => constant([1, 2, 3], [2, 2]), ShapeError, 'constant(): shape [2,2] needs 4 values, found 3');
});
