/**
 * `npx cdk synth` as the README runs it (from deploy/), offline: no credentials, no Docker, no notices
 * or version checks. The CDK CLI spawns deploy/cdk.json's app command under Node's type stripping.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Finished, runProcess } from '../helpers/process.ts';
import { ROOT } from './serve-process.ts';

function cdk(args: string[]): Promise<Finished> {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-cdk-home-'));
  return runProcess(process.execPath, [join(ROOT, 'node_modules/aws-cdk/bin/cdk'), ...args], {
    cwd: join(ROOT, 'deploy'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_REGION: 'eu-west-1',
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    },
    timeoutMs: 120_000,
  });
}

const OFFLINE = ['--no-notices', '--no-version-reporting', '--no-asset-metadata'];

// The CDK CLI takes 10 s of CPU, and on a loaded machine several times that in wall time.
const CDK_TIMEOUT = { timeout: 120_000 };

describe('cdk synth (CLI)', () => {
  it(
    'synthesizes the stack with context values and stages the Dockerfile build as an asset',
    CDK_TIMEOUT,
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'abproxy-cdk-out-'));
      const run = await cdk([
        'synth',
        ...OFFLINE,
        '-q',
        '-o',
        out,
        '-c',
        'allowedCidrs=198.51.100.0/24',
        '-c',
        'tablePrefix=clitest',
        '-c',
        'allowPlainHttp=true',
      ]);
      expect(run.code, run.stderr).toBe(0);
      // Plain HTTP was asked for: the synth output says what it means.
      expect(`${run.stdout}${run.stderr}`).toMatch(/plain HTTP.*clear text/);
      const template = JSON.parse(readFileSync(join(out, 'Abproxy.template.json'), 'utf8'));
      const tables = Object.values(
        template.Resources as Record<string, { Type: string; Properties: { TableName: string } }>,
      )
        .filter((r) => r.Type === 'AWS::DynamoDB::Table')
        .map((r) => r.Properties.TableName)
        .sort();
      expect(tables).toEqual(['clitest-keys', 'clitest-limits', 'clitest-signin', 'clitest-usage']);
      const assets = JSON.parse(readFileSync(join(out, 'Abproxy.assets.json'), 'utf8'));
      const [image] = Object.values(assets.dockerImages as Record<string, { source: { directory: string } }>);
      expect(existsSync(join(out, image!.source.directory, 'Dockerfile'))).toBe(true);
      expect(existsSync(join(out, image!.source.directory, 'node_modules'))).toBe(false);
    },
  );

  it('refuses to synthesize plain HTTP without a certificate unless asked for', CDK_TIMEOUT, async () => {
    const out = mkdtempSync(join(tmpdir(), 'abproxy-cdk-out-'));
    const run = await cdk(['synth', ...OFFLINE, '-q', '-o', out, '-c', 'allowedCidrs=198.51.100.0/24']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/certificateArn is required/);
    expect(run.stderr).toMatch(/allowPlainHttp=true/);
  });

  it('fails with a clear message when allowedCidrs is missing', CDK_TIMEOUT, async () => {
    const out = mkdtempSync(join(tmpdir(), 'abproxy-cdk-out-'));
    const run = await cdk(['synth', ...OFFLINE, '-q', '-o', out]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/allowedCidrs is required/);
  });
});
