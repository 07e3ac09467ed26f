import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Bumped whenever kernel code changes in ways that invalidate measured choices. */
const KERNEL_VERSION = 1;

/** Where measured kernel choices are remembered: $KILN_CACHE_DIR, else ~/.cache/kiln. */
export function autotuneCachePath(): string {
  const dir = process.env.KILN_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kiln');
  return join(dir, 'autotune.json');
}

type CacheFile = { version: number; adapters: Record<string, Record<string, { variant: string; ms: Record<string, number> }>> };

/** The on-disk map adapter → kernel signature → fastest variant, with the timings that decided it. */
export class AutotuneCache {
  private data: CacheFile;
  private dirty = false;

  constructor(readonly path = autotuneCachePath()) {
    this.data = { version: KERNEL_VERSION, adapters: {} };
    try {
      if (existsSync(path)) {
        const d = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
        if (d.version === KERNEL_VERSION && d.adapters) this.data = d;
      }
    } catch {
      // A corrupt cache is only lost measurements: start over.
    }
  }

  get(adapter: string, signature: string): string | undefined {
    return this.data.adapters[adapter]?.[signature]?.variant;
  }

  set(adapter: string, signature: string, variant: string, ms: Record<string, number>): void {
    (this.data.adapters[adapter] ??= {})[signature] = { variant, ms };
    this.dirty = true;
  }

  entries(adapter: string): Record<string, { variant: string; ms: Record<string, number> }> {
    return this.data.adapters[adapter] ?? {};
  }

  save(): void {
    if (!this.dirty) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.data, null, 1));
      renameSync(tmp, this.path);
      this.dirty = false;
    } catch {
      // Read-only home: measurements just are not remembered.
    }
  }
}
