import cliProgress from 'cli-progress';

/** Steps, it/s and ETA: a bar on a terminal, plain lines (a few, not one per step) in logs. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progress(label: string, stream: NodeJS.WriteStream = process.stdout): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({
      format: `${label} [{bar}] {value}/{total} steps | {speed} it/s | ETA {eta_formatted}`,
      stream, hideCursor: true, clearOnComplete: false,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    const t0 = performance.now();
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, 0, { speed: '–' });
          started = true;
        }
        bar.update(done, { speed: (done / ((performance.now() - t0) / 1000)).toFixed(2) });
      },
      stop: () => bar.stop(),
    };
  }
  const t0 = performance.now();
  let lastShown = -1;
  return {
    update(done, total) {
      const tenth = Math.floor((10 * done) / total);
      if (tenth === lastShown && done !== total) return;
      lastShown = tenth;
      const s = (performance.now() - t0) / 1000;
      const rate = done / s;
      stream.write(`${label}: ${done}/${total} steps, ${rate.toFixed(2)} it/s, ETA ${((total - done) / rate).toFixed(1)} s\n`);
    },
    stop() {},
  };
}
