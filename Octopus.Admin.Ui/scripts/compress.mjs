// Precompresses the built bundle: FILE.gz and FILE.br beside each compressible file, kept only when smaller.
// The gateway embeds them and serves the variant the client accepts (Accept-Encoding), so it never compresses
// at request time.
import { readdirSync, readFileSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { join, extname } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const root = process.argv[2] ?? 'dist';
const compressible = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.txt', '.webmanifest', '.xml', '.ico', '.map']);

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

let raw = 0, gz = 0, br = 0;
for (const path of [...walk(root)]) {
  if (path.endsWith('.gz') || path.endsWith('.br')) { unlinkSync(path); continue; }
  const data = readFileSync(path);
  raw += data.length;
  if (!compressible.has(extname(path).toLowerCase())) { gz += data.length; br += data.length; continue; }
  const g = gzipSync(data, { level: 9 });
  const b = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  if (g.length < data.length) { writeFileSync(path + '.gz', g); gz += g.length; } else gz += data.length;
  if (b.length < data.length) { writeFileSync(path + '.br', b); br += b.length; } else br += data.length;
}
const kb = (n) => (n / 1024).toFixed(1) + ' KiB';
console.log(`compress: ${root}: ${kb(raw)} raw, ${kb(gz)} gzip, ${kb(br)} brotli`);
