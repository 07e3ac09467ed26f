import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { ConfigNotObjectError, JsonSyntaxError, parseLenientJson, readJsonConfig } from '../../runtime/config/index.js';
import { GOLDEN } from '../support/golden.js';

const golden = GOLDEN;
const scratch = await mkdtemp(join(tmpdir(), 'kiln-config-'));
after(() => rm(scratch, { recursive: true, force: true }));

test("the reference's DPM-Solver scheduler_config.json reads with lambda_min_clipped = -Infinity and every other field intact", async () => {
  const config = await readJsonConfig(`${golden}/sched-sd15/dpmpp2m25/scheduler_config.json`);
  assert.equal(config['lambda_min_clipped'], -Infinity);
  assert.equal(config['_class_name'], 'DPMSolverMultistepScheduler');
  assert.equal(config['beta_end'], 0.012);
  assert.equal(config['trained_betas'], null);
  assert.equal(config['solver_order'], 2);
  assert.equal(Object.keys(config).length, 26);
});

test('NaN, Infinity and -Infinity parse as numbers anywhere a value may stand', () => {
  const value = parseLenientJson('{"a": NaN, "b": [Infinity, -Infinity, 1e400, -0.5e-3], "c": {"d": -Infinity}}') as never as {
    a: number; b: number[]; c: { d: number };
  };
  assert.ok(Number.isNaN(value.a));
  assert.deepEqual(value.b, [Infinity, -Infinity, Infinity, -0.0005]);
  assert.equal(value.c.d, -Infinity);
});

test('strings that contain NaN / Infinity, quotes and escapes come back unchanged', () => {
  const text = String.raw`{"NaN": "NaN", "x": "-Infinity and Infinity", "y": "say \"NaN\"", "z": "\u00e9\n\\NaN", "w": "Infinity"}`;
  assert.deepEqual(parseLenientJson(text), {
    NaN: 'NaN', x: '-Infinity and Infinity', y: 'say "NaN"', z: 'é\n\\NaN', w: 'Infinity',
  });
});

test('every standard JSON document parses exactly as JSON.parse does', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
      const text = JSON.stringify(value, null, pretty ? 2 : undefined);
      assert.deepEqual(parseLenientJson(text), JSON.parse(text));
    }),
    { numRuns: 300 },
  );
});

test('a document that Python writes with non-finite floats round-trips through the lenient parser', () => {
  fc.assert(
    fc.property(fc.array(fc.double()), (numbers) => {
      const pythonStyle = `[${numbers.map((x) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : JSON.stringify(x))).join(', ')}]`;
      const parsed = parseLenientJson(pythonStyle) as number[];
      return parsed.length === numbers.length && parsed.every((x, i) => Object.is(x, numbers[i]) || (x === 0 && numbers[i] === 0));
    }),
  );
});

test('a "__proto__" key is stored as data and does not change the object\'s prototype', () => {
  const value = parseLenientJson('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('bad JSON fails with the file, line, column and what was expected', async () => {
  const path = join(scratch, 'config.json');
  await writeFile(path, '{\n  "a": 1,\n  "b": nope\n}');
  await assert.rejects(readJsonConfig(path), (error: unknown) => {
    assert.ok(error instanceof JsonSyntaxError);
    assert.equal(error.position.source, path);
    assert.equal(error.position.line, 3);
    assert.equal(error.position.column, 8);
    assert.match(error.message, /config\.json:3:8 \(offset 19\): expected 'null', found "n"/);
    return true;
  });
});

test('syntax errors are reported, not guessed around: each malformed input names its own problem', () => {
  const cases: [string, RegExp][] = [
    ['{"a": 1,}', /expected a string key/],
    ['[1 2]', /expected ',' or ']'/],
    ['{"a" 1}', /expected ':' after key "a"/],
    ['"abc', /expected a closing '"'/],
    ['"a\tb"', /control characters must be escaped/],
    ['"\\x41"', /expected a valid escape/],
    ['{"a": 1} x', /expected end of text after the value/],
    ['-NaN', /expected a number/],
    ['Infinit', /expected 'Infinity'/],
    ['01', /expected end of text/],
    ['', /expected a JSON value, found end of text/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseLenientJson(text), (error: unknown) => error instanceof JsonSyntaxError && message.test(error.message), text);
  }
});

test('strict mode rejects the non-finite literals and repeated keys', () => {
  assert.throws(() => parseLenientJson('[NaN]', { allowNonFinite: false }), /NaN and Infinity are not JSON/);
  assert.deepEqual(parseLenientJson('{"a": 1, "a": 2}'), { a: 2 }); // Python's json keeps the last one
  assert.throws(() => parseLenientJson('{"a": 1, "a": 2}', { duplicateKeys: 'error' }), /key "a" again/);
});

test('nesting deeper than the limit is an error, not a stack overflow', () => {
  assert.throws(() => parseLenientJson('['.repeat(100_000)), /at most 1000 levels of nesting/);
});

test('a config whose top level is not an object is rejected by name', async () => {
  const path = join(scratch, 'list.json');
  await writeFile(path, '[1, 2]');
  await assert.rejects(readJsonConfig(path), (error: unknown) => error instanceof ConfigNotObjectError && /found an array/.test(error.message));
});
