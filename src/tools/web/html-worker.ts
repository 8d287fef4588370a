/**
 * The worker thread that turns fetched HTML into Markdown for html-converter.ts: one page per message,
 * answered with the Markdown or the error's message. A DOM of a hostile page costs the worker its time
 * and memory, never the gateway's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { htmlToMarkdown } from './html-to-markdown.ts';

export interface HtmlJob {
  page: string;
  url?: string;
}

export type HtmlAnswer =
  | { ok: true; title?: string; markdown: string }
  | { ok: false; message: string }
  /** Sent once, when the libraries are loaded: a page's deadline counts its reading, not this start. */
  | { ready: true };

parentPort?.on('message', (job: HtmlJob) => {
  let answer: HtmlAnswer;
  try {
    answer = { ok: true, ...htmlToMarkdown(job.page, job.url) };
  } catch (err) {
    answer = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(answer);
});
parentPort?.postMessage({ ready: true } satisfies HtmlAnswer);
