import type { Tensor } from '../dsl/node.js';

export interface BufferPlan {
  /** Buffer slot of every materialized tensor. */
  slotOf: Map<Tensor, number>;
  /** Byte size of each slot. */
  slotBytes: number[];
  /** Slots that are never shared (inputs, params, constants, outputs, captures). */
  dedicated: Set<number>;
}

/**
 * Assign buffers by liveness: a kernel's output gets a free pooled buffer (the smallest that fits, at most
 * twice the size) or a new one; an intermediate's buffer returns to the pool after its last reader ran.
 * A kernel's output never shares a buffer with its own inputs, since frees happen after allocation.
 */
export function planMemory(
  kernels: readonly { root: Tensor; reads: readonly Tensor[] }[],
  dedicated: readonly Tensor[],
  bytesOf: (t: Tensor) => number,
): BufferPlan {
  const slotOf = new Map<Tensor, number>();
  const slotBytes: number[] = [];
  const dedicatedSlots = new Set<number>();
  for (const t of dedicated) {
    if (slotOf.has(t)) continue;
    slotOf.set(t, slotBytes.push(bytesOf(t)) - 1);
    dedicatedSlots.add(slotOf.get(t)!);
  }
  const lastUse = new Map<Tensor, number>();
  kernels.forEach((k, i) => k.reads.forEach((t) => lastUse.set(t, i)));
  const free: number[] = [];
  kernels.forEach((k, i) => {
    if (!slotOf.has(k.root)) {
      const need = bytesOf(k.root);
      let best = -1;
      for (let f = 0; f < free.length; f++) {
        const size = slotBytes[free[f]];
        if (size >= need && size <= 2 * need && (best < 0 || size < slotBytes[free[best]])) best = f;
      }
      slotOf.set(k.root, best >= 0 ? free.splice(best, 1)[0] : slotBytes.push(need) - 1);
    }
    for (const t of k.reads) {
      const s = slotOf.get(t);
      if (s !== undefined && lastUse.get(t) === i && !dedicatedSlots.has(s)) free.push(s);
    }
    // An intermediate nobody reads (possible after simplification) is free at once.
    const own = slotOf.get(k.root)!;
    if (!lastUse.has(k.root) && !dedicatedSlots.has(own)) free.push(own);
  });
  return { slotOf, slotBytes, dedicated: dedicatedSlots };
}
