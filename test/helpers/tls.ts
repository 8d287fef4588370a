/**
 * A throw-away TLS certificate for 127.0.0.1 (openssl, valid one day), for servers a client must reach
 * over TLS: trusted by a child process through NODE_EXTRA_CA_CERTS=`certPath`, as an operator would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowAwayCertificate {
  key: Buffer;
  cert: Buffer;
  /** The certificate's file (PEM), for NODE_EXTRA_CA_CERTS. */
  certPath: string;
  remove(): void;
}

/** Whether the `openssl` command is there to make one. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function throwAwayCertificate(): ThrowAwayCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'abproxy-cert-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(keyPath),
    cert: readFileSync(certPath),
    certPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
