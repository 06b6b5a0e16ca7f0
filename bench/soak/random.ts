/**
 * Seeded pseudo-random numbers, so a soak run reproduces from its seed: the
 * same records, the same faults at the same places. sfc32 is small, fast and
 * good enough for workload shapes (not for cryptography).
 */
export type Random = () => number;

/** A 32-bit mix of some integers (murmur3's finaliser over each), to derive independent streams. */
export function mix(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Uniform in [0, 1), from a seed and a stream name (numbers). */
export function random(...seed: readonly number[]): Random {
  let a = mix(...seed, 1);
  let b = mix(...seed, 2);
  let c = mix(...seed, 3);
  let d = mix(...seed, 4);
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A whole number in [0, n). */
export function below(rnd: Random, n: number): number {
  return Math.floor(rnd() * n);
}

/** A whole number in [min, max]. */
export function between(rnd: Random, min: number, max: number): number {
  return min + Math.floor(rnd() * (max - min + 1));
}
