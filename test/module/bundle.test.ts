import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundleHandler, deterministicZip } from '../../modules/lambda-bundle.ts';

/** Reads a zip's central directory: names, DOS times, modes, and each entry's data. */
function readZip(zip: Buffer): { name: string; dosTime: number; dosDate: number; mode: number; data: Buffer }[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(p)).toBe(0x02014b50);
    const method = zip.readUInt16LE(p + 10);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const size = zip.readUInt32LE(p + 20);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + size);
    out.push({
      name,
      dosTime: zip.readUInt16LE(p + 12),
      dosDate: zip.readUInt16LE(p + 14),
      mode: zip.readUInt32LE(p + 38) >>> 16,
      data: method === 8 ? inflateRawSync(raw) : raw,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

describe('the Lambda bundle is deterministic', () => {
  const first = bundleHandler();
  it('bundling twice gives the same bytes and the same sha256', () => {
    const second = bundleHandler();
    expect(second.sha256).toBe(first.sha256);
    expect(Buffer.compare(second.zip, first.zip)).toBe(0);
    expect(first.sha256).toBe(createHash('sha256').update(first.zip).digest('hex'));
    expect(first.base64Sha256).toBe(Buffer.from(first.sha256, 'hex').toString('base64'));
  });
  it('holds index.mjs and its chunks (ESM, minified) with fixed time and mode, each inflating to its file', () => {
    const entries = readZip(first.zip);
    expect(entries.map((e) => e.name)).toEqual(first.files.map((f) => f.name).sort());
    expect(entries.map((e) => e.name)).toContain('index.mjs');
    for (const name of entries.map((e) => e.name)) expect(name).toMatch(/^(index|chunks\/[\w-]+)\.mjs$/);
    for (const entry of entries) {
      expect(entry).toMatchObject({ dosTime: 0, dosDate: 0x21, mode: 0o100644 });
      expect(Buffer.compare(entry.data, first.files.find((f) => f.name === entry.name)!.data)).toBe(0);
    }
    expect(Buffer.compare(entries.find((e) => e.name === 'index.mjs')!.data, first.code)).toBe(0);
    const code = first.code.toString('utf8');
    expect(code).toMatch(/export\{[^}]*as handler\}/);
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000); // minified: long lines
  });
  it('every chunk an .mjs file imports is in the zip', () => {
    const names = new Set(first.files.map((f) => f.name));
    let imports = 0;
    for (const file of first.files) {
      for (const [, target] of file.data.toString('utf8').matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
        const resolved = new URL(target!, `file:///${file.name}`).pathname.slice(1);
        expect(names.has(resolved), `${file.name} imports ${target}`).toBe(true);
        imports++;
      }
    }
    expect(imports).toBeGreaterThan(first.files.length - 1); // each chunk is imported by something
  });
  it('the zip writer ignores input order and changes with content', () => {
    const a = { name: 'a.txt', data: Buffer.from('alpha') };
    const b = { name: 'b.txt', data: Buffer.from('beta') };
    expect(Buffer.compare(deterministicZip([a, b]), deterministicZip([b, a]))).toBe(0);
    expect(Buffer.compare(deterministicZip([a, b]), deterministicZip([a, { ...b, data: Buffer.from('beta2') }]))).not.toBe(0);
    expect(readZip(deterministicZip([b, a])).map((e) => [e.name, e.data.toString()])).toEqual([
      ['a.txt', 'alpha'],
      ['b.txt', 'beta'],
    ]);
  });
  it('stays a small upload (AWS SDK bundled)', () => {
    expect(first.zip.length).toBeLessThan(5 * 1024 * 1024);
  });
});
