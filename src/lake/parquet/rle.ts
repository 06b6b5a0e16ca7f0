import type { ByteBuffer } from './byte-buffer.ts';

/**
 * Parquet's RLE / bit-packing hybrid, used for definition levels and
 * dictionary indices. Runs of 8 or more equal values become RLE runs (the
 * flattened rows repeat pk, sequence and event columns for every leaf of an
 * item, so runs are common); everything else is bit-packed in groups of 8.
 */
export function encodeHybrid(values: ArrayLike<number>, count: number, bitWidth: number, out: ByteBuffer): void {
  if (bitWidth < 1 || bitWidth > 24) throw new Error(`bit width ${bitWidth} is outside 1..24`);
  const valueBytes = (bitWidth + 7) >> 3;
  let litStart = 0;
  let litEnd = 0;
  let i = 0;
  while (i < count) {
    const v = values[i]!;
    let j = i + 1;
    while (j < count && values[j] === v) j++;
    let runStart = i;
    let runLen = j - i;
    if (runLen >= 8) {
      const pending = litEnd - litStart;
      if (pending > 0) {
        // Literal groups hold exactly 8 values; borrow from the run to fill the last one.
        const pad = (8 - (pending & 7)) & 7;
        litEnd += pad;
        runStart += pad;
        runLen -= pad;
        if (runLen >= 8) {
          bitPack(values, litStart, litEnd, bitWidth, out);
          litStart = litEnd = runStart;
        }
      }
      if (runLen >= 8) {
        out.varint(runLen << 1);
        out.ensure(valueBytes);
        for (let b = 0; b < valueBytes; b++) out.buf[out.pos++] = (v >>> (8 * b)) & 0xff;
        litStart = litEnd = j;
      } else {
        litEnd = j;
      }
    } else {
      if (litEnd === litStart) litStart = i;
      litEnd = j;
    }
    i = j;
  }
  if (litEnd > litStart) bitPack(values, litStart, litEnd, bitWidth, out);
}

/** Bit-packs values[start, end) LSB first, padding the last group of 8 with zeros. */
function bitPack(values: ArrayLike<number>, start: number, end: number, bitWidth: number, out: ByteBuffer): void {
  const groups = Math.ceil((end - start) / 8);
  out.varint((groups << 1) | 1);
  out.ensure(groups * bitWidth);
  const buf = out.buf;
  let pos = out.pos;
  let acc = 0;
  let bits = 0;
  const total = groups * 8;
  for (let k = 0; k < total; k++) {
    const idx = start + k;
    const v = idx < end ? values[idx]! : 0;
    acc |= v << bits;
    bits += bitWidth;
    while (bits >= 8) {
      buf[pos++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out.pos = pos;
}

/** Smallest width that holds every index below `distinct` (at least 1: some readers mishandle width 0). */
export function bitWidthFor(distinct: number): number {
  let w = 1;
  while (distinct - 1 >= 1 << w) w++;
  return w;
}
