/**
 * The ink side of src/ui, loaded only through load.ts when output goes to a terminal. Everything that
 * imports ink or react is reached from here, so the rest of the CLI starts without them.
 */
import { type Instance, render, renderToString } from 'ink';
import { createElement as h } from 'react';
import type { StatsSnapshot } from '../metrics/stats.ts';
import { LiveDashboard } from './ink/dashboard-view.ts';
import { Progress, type ProgressState } from './ink/progress-view.ts';
import { TableView } from './ink/table-view.ts';
import type { Column, Row } from './table-format.ts';

type Out = NodeJS.WriteStream;

const renderOptions = (stdout: Out) => ({ stdout, patchConsole: false, exitOnCtrlC: false }) as const;

export function renderTableInk(columns: readonly Column[], rows: readonly Row[], stdout: Out): void {
  stdout.write(`${renderToString(h(TableView, { columns, rows }), { columns: stdout.columns || 120 })}\n`);
}

export interface DashboardOptions {
  url: string;
  read: () => StatsSnapshot;
  readLogs?: () => readonly string[];
  intervalMs: number;
  stdout: Out;
}

export function startDashboardInk(options: DashboardOptions): { stop(): Promise<void> } {
  const { stdout, ...props } = options;
  const instance: Instance = render(h(LiveDashboard, props), renderOptions(stdout));
  return {
    async stop() {
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}

export interface ProgressHandle {
  update(text: string): void;
  finish(phase: 'done' | 'failed', text: string): Promise<void>;
}

export function startProgressInk(text: string, stdout: Out): ProgressHandle {
  let listener: ((state: ProgressState) => void) | undefined;
  let latest: ProgressState = { phase: 'running', text };
  const subscribe = (next: (state: ProgressState) => void) => {
    listener = next;
    next(latest);
  };
  const set = (state: ProgressState) => {
    latest = state;
    listener?.(state);
  };
  const instance = render(h(Progress, { subscribe, initial: latest }), renderOptions(stdout));
  return {
    update: (next) => set({ phase: 'running', text: next }),
    async finish(phase, next) {
      set({ phase, text: next });
      // Let React commit the final frame before ink writes it for good.
      await new Promise((resolve) => setImmediate(resolve));
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
