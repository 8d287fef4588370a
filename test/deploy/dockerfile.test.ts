/** The image definition, read as Docker would: stages, user, health check, start command, ignore list. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProcess } from '../helpers/process.ts';
import { execForm, last, readDockerfile, stageEnv } from './dockerfile.ts';
import { ROOT } from './serve-process.ts';

const dockerfile = readDockerfile();
const final = dockerfile.stages.at(-1)!;

describe('Dockerfile', () => {
  it('is multi-stage on node:24-slim, and the runtime stage copies the built app from an earlier stage', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) expect(stage.from).toBe('node:24-slim');
    const copies = final.instructions.filter((i) => i.keyword === 'COPY');
    const fromBuild = copies.filter((c) => /--from=(\S+)/.test(c.args));
    expect(fromBuild.length).toBeGreaterThan(0);
    const names = dockerfile.stages.slice(0, -1).map((s) => s.name);
    for (const copy of fromBuild) expect(names).toContain(/--from=(\S+)/.exec(copy.args)![1]);
  });

  it('installs production dependencies only, with the toolchain confined to the build stage', () => {
    const runs = dockerfile.stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN'));
    const installs = runs.filter((r) => /\bnpm (ci|install|i)\b/.test(r.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/\bnpm ci\b/);
    expect(final.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
    // The app and its node_modules come from a stage that installs production dependencies only; a stage
    // with dev dependencies (esbuild) may hand over what it built (the admin page, the prebuilt CLI) only.
    const copies = final.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from='));
    for (const copy of copies) {
      const [, from = '', source = ''] = /--from=(\S+)\s+(\S+)/.exec(copy.args) ?? [];
      const stage = dockerfile.stages.find((s) => s.name === from)!;
      const install = stage.instructions.find((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
      if (!install?.args.includes('--omit=dev'))
        expect(['/app/dist/admin', '/app/dist/js', '/app/.node-compile-cache']).toContain(source);
    }
    const app = copies.find((c) => /\s\/app\s+\/app$/.test(c.args))!;
    const appStage = dockerfile.stages.find((s) => s.name === /--from=(\S+)/.exec(app.args)![1])!;
    expect(appStage.instructions.some((i) => /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    const build = dockerfile.stages.find((s) => s.instructions.some((i) => /--omit=dev/.test(i.args)))!;
    expect(build.instructions.find((i) => i.keyword === 'RUN' && /g\+\+/.test(i.args))).toBeDefined();
  });

  it('ships a read-only compile cache made by the runtime user, with the runtime Node, at the runtime paths', () => {
    // Node keys its compile cache by uid and file path (scripts/warm-compile-cache.ts).
    const warm = dockerfile.stages.find((s) =>
      s.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('scripts/warm-compile-cache.ts')),
    )!;
    expect(warm).toBeDefined();
    expect(warm.from).toBe(final.from);
    expect(last(warm, 'WORKDIR')?.args).toBe(last(final, 'WORKDIR')?.args);
    const run = warm.instructions.findIndex(
      (i) => i.keyword === 'RUN' && i.args.includes('scripts/warm-compile-cache.ts'),
    );
    const userAtRun = warm.instructions
      .slice(0, run)
      .filter((i) => i.keyword === 'USER')
      .at(-1)?.args;
    expect(userAtRun).toBe(last(final, 'USER')?.args);
    // Copied without --chown: owned by root, read-only to the service user.
    expect(final.instructions.map((i) => `${i.keyword} ${i.args}`)).toContain(
      `COPY --from=${warm.name} /app/.node-compile-cache .node-compile-cache`,
    );
  });

  it('runs as a non-root user', () => {
    const user = last(final, 'USER')?.args.trim();
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(user).not.toMatch(/^root:|^0:/);
  });

  it('starts `abproxy serve --host 0.0.0.0 --mode team` through node (signals reach the gateway)', () => {
    const entrypoint = execForm(last(final, 'ENTRYPOINT')!.args);
    const cmd = execForm(last(final, 'CMD')!.args);
    expect([...entrypoint, ...cmd]).toEqual([
      'node',
      'bin/abproxy.js',
      'serve',
      '--host',
      '0.0.0.0',
      '--mode',
      'team',
    ]);
    expect(last(final, 'STOPSIGNAL')?.args ?? 'SIGTERM').toBe('SIGTERM');
    expect(last(final, 'WORKDIR')?.args).toBe('/app');
  });

  it('has a HEALTHCHECK on /health that needs no curl', () => {
    const check = last(final, 'HEALTHCHECK')!;
    expect(check).toBeDefined();
    const [, options = '', command = ''] = /^(.*?)CMD\s+(.*)$/.exec(check.args) ?? [];
    expect(options).toMatch(/--interval=\d+s/);
    const argv = execForm(command);
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/health');
    expect(argv.join(' ')).not.toMatch(/curl|wget/);
  });

  it('configures by environment only: no secrets or config files baked in', () => {
    const env = stageEnv(final);
    expect(env.ABPROXY_HOST).toBe('0.0.0.0');
    expect(Object.keys(env).filter((k) => /KEY|SECRET|TOKEN|PASSWORD/i.test(k))).toEqual([]);
    // The runtime stage takes files only from the build stage, which copies sources and manifests only.
    const copied = final.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
    for (const c of copied) expect(c.args).toMatch(/^--from=/);
  });

  it('the health check command exits non-zero when nothing answers', async () => {
    const argv = execForm(/CMD\s+(.*)$/.exec(last(final, 'HEALTHCHECK')!.args)![1]!);
    const { code } = await runProcess(process.execPath, argv.slice(1), {
      env: { PATH: process.env.PATH ?? '', ABPROXY_PORT: '9' },
    });
    expect(code).toBe(1);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('is an allow-list: everything is excluded unless named (node_modules, .git, secrets stay out)', () => {
    expect(patterns[0]).toBe('**');
    const allowed = patterns.filter((p) => p.startsWith('!'));
    for (const p of allowed) expect(p).not.toMatch(/node_modules|\.git|\.tools|\.env|cdk\.out/);
  });

  it('allows every path the Dockerfile copies from the build context', () => {
    const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
    const sources = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const path = source.replace(/\/$/, '');
      expect(allowed.some((a) => a === path || a === `${path}/**`)).toBe(true);
    }
  });
});
