// `kiln generate` and `kiln plan` driven as a user would, in a child process: good runs write a valid PNG
// whose text chunk holds the parameters; bad arguments exit non-zero with one clear line and write nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decode } from 'fast-png';
import { assembleTinyPipeline } from '../support/tiny-pipeline.js';

const model = assembleTinyPipeline();
const work = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
const kiln = (...args: string[]) => spawnSync(process.execPath, ['bin/kiln.mjs', ...args], { encoding: 'utf8', timeout: 300_000 });

test('kiln generate writes a PNG whose text chunk holds the generation parameters', () => {
  const out = join(work, 'ok.png');
  const r = kiln('generate', '--model', model, '--prompt', 'a red circle', '--steps', '3', '--seed', '4', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*ok\.png \(32×32, seed 4, 6 UNet evaluations/);
  assert.doesNotMatch(r.stderr, /artificially reduced/, 'Dawn\'s adapter warnings stay off the terminal');
  const png = decode(readFileSync(out));
  assert.equal(png.width, 32);
  const params = JSON.parse(png.text.parameters);
  assert.equal(params.prompt, 'a red circle');
  assert.equal(params.seed, '4');
  assert.equal(params.steps, '3');
});

test('kiln plan prints the plan table and what the guidance saves, without a model run', () => {
  const r = kiln('plan', '--model', model, '--steps', '10', '--guidance', 'cfg:7.5,drop@6:uncond');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /model evaluations: 16 of 20 for full CFG \(saves 20\.0%\)/);
  assert.equal(r.stdout.trim().split('\n').length, 2 + 1 + 10);
  const j = kiln('plan', '--model', model, '--steps', '4', '--json');
  assert.equal(JSON.parse(j.stdout).rows.length, 4);
});

const corrupt = (() => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-corrupt-')), 'pipe');
  cpSync(model, dir, { recursive: true });
  const f = join(dir, 'unet', 'diffusion_pytorch_model.safetensors');
  truncateSync(f, statSync(f).size - 100);
  return dir;
})();

const bad: [string, string[], RegExp][] = [
  ['an unknown sampler', ['--sampler', 'foo'], /argument 'foo' is invalid/],
  ['width 100', ['--width', '100'], /width must be a positive multiple of 8 for this model, found 100/],
  ['steps 0', ['--steps', '0'], /--steps must be an integer ≥ 1, found '0'/],
  ['a guidance spec that runs past the end', ['--steps', '4', '--guidance', 'cfg:7.5,drop@9:uncond'], /drop/],
  ['a model path that does not exist', ['--model', '/nonexistent/model'], /model '\/nonexistent\/model' not found/],
  ['a model folder holding a corrupt file', ['--model', corrupt], /Safetensors\w*Error/],
];
for (const [what, args, message] of bad) {
  test(`kiln generate with ${what} exits non-zero with one clear line and leaves no file`, () => {
    const out = join(work, `bad-${what.replace(/\W+/g, '-')}.png`);
    const r = kiln('generate', '--model', model, '--prompt', 'x', '--out', out, ...args);
    assert.notEqual(r.status, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(work).filter((f) => f.includes('.tmp')), []);
  });
}
