// Bundles the extension (dist/extension.js, `vscode` external) or the unit tests (out/test/*.js).
//   node esbuild.mjs [--production] [--watch] [--tests]
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  logLevel: 'warning',
};

const options = tests
  ? {
      ...common,
      entryPoints: readdirSync('src/test').filter((f) => f.endsWith('.test.ts')).map((f) => `src/test/${f}`),
      outdir: 'out/test',
      sourcemap: 'inline',
      external: ['vscode'],
    }
  : {
      ...common,
      entryPoints: ['src/extension.ts'],
      outfile: 'dist/extension.js',
      external: ['vscode'],
      sourcemap: !production,
      minify: production,
      metafile: true,
    };

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('esbuild: watching…');
} else {
  const result = await esbuild.build(options);
  if (!tests) {
    const out = result.metafile.outputs['dist/extension.js'];
    console.log(`esbuild: dist/extension.js ${(out.bytes / 1024).toFixed(0)} KiB${production ? ' (production)' : ''}`);
  }
}
