// The golden tiny models (unet-sd15-tiny, vae-tiny, clip-tiny + the small CLIP tokenizer and SD 1.5's DDIM
// scheduler config) assembled into one diffusers pipeline folder, as single-file-sd15-tiny/pipeline describes.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenPath } from './golden.js';

export function assembleTinyPipeline(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-tiny-')), 'pipeline');
  cpSync(goldenPath('single-file-sd15-tiny', 'pipeline'), dir, { recursive: true });
  cpSync(goldenPath('unet-sd15-tiny', 'unet'), join(dir, 'unet'), { recursive: true });
  cpSync(goldenPath('vae-tiny', 'vae'), join(dir, 'vae'), { recursive: true });
  cpSync(goldenPath('clip-tiny', 'text_encoder'), join(dir, 'text_encoder'), { recursive: true });
  return dir;
}
