/**
 * `npx cdk synth` as the README runs it (from deploy/), offline: no credentials, no Docker, no notices
 * or version checks. The CDK CLI spawns deploy/cdk.json's app command under Node's type stripping.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './serve-process.ts';

function cdk(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-cdk-home-'));
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [join(ROOT, 'node_modules/aws-cdk/bin/cdk'), ...args], {
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
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    proc.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const OFFLINE = ['--no-notices', '--no-version-reporting', '--no-asset-metadata'];

describe('cdk synth (CLI)', () => {
  it('synthesizes the stack with context values and stages the Dockerfile build as an asset', async () => {
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
    ]);
    expect(run.code, run.stderr).toBe(0);
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
  });

  it('fails with a clear message when allowedCidrs is missing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'abproxy-cdk-out-'));
    const run = await cdk(['synth', ...OFFLINE, '-q', '-o', out]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/allowedCidrs is required/);
  });
});
