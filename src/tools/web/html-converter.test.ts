import { afterEach, describe, expect, it } from 'vitest';
import { HtmlConverter, readerHeapMb } from './html-converter.ts';
import { htmlToMarkdown } from './html-to-markdown.ts';
import { WebToolError } from './types.ts';

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length));
/** ~1 s of synchronous DOM work on these machines (nesting flattened, then turndown on 60k elements). */
const hostile = () => `<html><body>${fill('<div><p>', 250_000)}deep text</body></html>`;
const article =
  '<html><head><title>Notes</title></head><body><article><h1>Notes</h1>' +
  `<p>${'A paragraph with enough words to count as an article. '.repeat(8)}</p>` +
  '<ul><li>one</li><li>two</li></ul></article></body></html>';

/** The longest gap between ticks of a 5 ms interval while `work` runs. */
async function longestStall<T>(work: Promise<T>): Promise<{ value: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  try {
    const value = await work;
    // A stall that ends with the work itself shows only here, before the next tick.
    return { value, stallMs: Math.max(stallMs, performance.now() - last) };
  } finally {
    clearInterval(ticker);
  }
}

describe('HtmlConverter (HTML → Markdown in a worker thread)', () => {
  const converters: HtmlConverter[] = [];
  const converter = (options?: ConstructorParameters<typeof HtmlConverter>[0]) => {
    const made = new HtmlConverter(options);
    converters.push(made);
    return made;
  };
  afterEach(() => {
    for (const made of converters.splice(0)) made.close();
  });

  it('reads a page as htmlToMarkdown does', async () => {
    const read = await converter().convert(article, 'https://example.com/notes');
    expect(read).toEqual(htmlToMarkdown(article, 'https://example.com/notes'));
    expect(read.title).toBe('Notes');
    expect(read.markdown).toContain('- one');
  });

  it('hostile pages leave the event loop free (on the gateway thread one of them stalled it for ~1 s)', {
    timeout: 60_000,
  }, async () => {
    const reader = converter();
    await reader.convert(article); // the worker and its libraries are up
    const pages = [hostile(), hostile(), hostile()];
    const { value, stallMs } = await longestStall(Promise.all(pages.map((page) => reader.convert(page))));
    for (const read of value) expect(read.markdown).toContain('deep text');
    expect(stallMs).toBeLessThan(250);
  });

  it("callers take turns: one caller's many pages do not all go before another caller's one", {
    timeout: 60_000,
  }, async () => {
    const reader = converter();
    await reader.convert(article);
    const order: string[] = [];
    const read = (page: string, caller: string, label: string) =>
      reader.convert(page, undefined, undefined, caller).then(() => order.push(label));
    // Before: a FIFO, so a key that queued many slow pages held every other key's fetches behind them.
    await Promise.all([
      read(hostile(), 'key_flood', 'flood 1'),
      read(hostile(), 'key_flood', 'flood 2'),
      read(hostile(), 'key_flood', 'flood 3'),
      read(article, 'key_other', 'other'),
    ]);
    expect(order).toEqual(['flood 1', 'other', 'flood 2', 'flood 3']);
  });

  it("a small page waits for the page being read, not for every big page queued before it (another caller's)", {
    timeout: 60_000,
  }, async () => {
    // A long deadline (and so a long maxWaitMs): on a loaded machine a big page may take seconds.
    const reader = converter({ deadlineMs: 50_000 });
    await reader.convert(article); // the worker and its libraries are up
    const order: string[] = [];
    const big = [1, 2].map((n) => reader.convert(hostile()).then(() => order.push(`big ${n}`)));
    const small = reader.convert(article).then(() => order.push('small'));
    await Promise.all([...big, small]);
    // In arrival order the small page (a few ms) waited for both big ones (~0.5 s each, more on a busy machine).
    expect(order).toEqual(['big 1', 'small', 'big 2']);
  });

  it('a page that waited maxWaitMs goes next whatever its size (smaller pages cannot hold it back for ever)', {
    timeout: 60_000,
  }, async () => {
    const reader = converter({ maxWaitMs: 0 });
    await reader.convert(article);
    const order: string[] = [];
    const big = [1, 2].map((n) => reader.convert(hostile()).then(() => order.push(`big ${n}`)));
    const small = reader.convert(article).then(() => order.push('small'));
    await Promise.all([...big, small]);
    expect(order).toEqual(['big 1', 'big 2', 'small']);
  });

  it("pages that all waited maxWaitMs still take turns by caller: one caller's flood of slow pages does not hold another's for ever", {
    timeout: 60_000,
  }, async () => {
    // Pages slower than maxWaitMs (a hostile site's, up to the deadline each) leave every queued page
    // overdue after the first; the oldest-first escape then read the flood in arrival order, another
    // caller's page last (16 pages at the 10-s deadline: 160 s).
    const reader = converter({ maxWaitMs: 50 });
    await reader.convert(article);
    const order: string[] = [];
    const read = (page: string, caller: string, label: string) =>
      reader.convert(page, undefined, undefined, caller).then(() => order.push(label));
    await Promise.all([
      read(hostile(), 'key_flood', 'flood 1'),
      read(hostile(), 'key_flood', 'flood 2'),
      read(hostile(), 'key_flood', 'flood 3'),
      read(article, 'key_other', 'other'),
    ]);
    expect(order).toEqual(['flood 1', 'other', 'flood 2', 'flood 3']);
  });

  it('a page past the deadline fails as url_not_accessible, and the next page gets a new worker', {
    timeout: 60_000,
  }, async () => {
    const reader = converter({ deadlineMs: 100 });
    await reader.convert(article); // a warm worker: the deadline is all the page's own
    const slow = reader.convert(hostile());
    const next = reader.convert(article);
    const err = await slow.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebToolError);
    expect(err).toMatchObject({ code: 'url_not_accessible' });
    expect((err as Error).message).toMatch(/longer than 0\.1 s/);
    // Queued behind it: read by a new worker, whose start does not count against the page.
    await expect(next).resolves.toMatchObject({ title: 'Notes' });
  });

  it('a page whose DOM outgrows the heap cap fails alone; the gateway and the next page go on', {
    timeout: 60_000,
  }, async () => {
    // A long deadline: on a loaded machine (the whole suite at once) the heap cap, not the clock, must end it.
    // 24 MB: this page needs 32–48 (measured), while the next page's new worker loads its libraries and
    // reads a small page within it; at 16 that new worker itself ran out now and then (1 run in 5).
    const reader = converter({ maxHeapMb: 24, deadlineMs: 50_000 });
    // 256 kB of markup, tens of thousands of elements: the DOM grows by small allocations past 16 MB.
    const err = await reader.convert(hostile()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'url_not_accessible' });
    expect((err as Error).message).toMatch(/more than 24 MB/);
    await expect(reader.convert(article)).resolves.toMatchObject({ title: 'Notes' });
  });

  it('a page of the largest size fetched reaches the reader whole (a copy past the cap would abort the process)', {
    timeout: 60_000,
  }, async () => {
    const maxBytes = 10 * 2 ** 20; // ABPROXY_WEB_FETCH_MAX_BYTES's default
    const reader = converter({ maxHeapMb: readerHeapMb(maxBytes) });
    // Two bytes a character in memory: 20 MB of string.
    const page = `<html><body><p>${fill('é ', maxBytes / 2)}</p></body></html>`;
    const read = await reader.convert(page);
    expect(read.markdown).toMatch(/^é é é/);
    expect(read.markdown).toContain('[…the rest of the page was not read]');
  });

  it('close fails the page being read and every waiting page at once', { timeout: 60_000 }, async () => {
    const reader = converter();
    const pages = [reader.convert(hostile()), reader.convert(hostile()), reader.convert(article)];
    const started = performance.now();
    reader.close();
    for (const page of pages) await expect(page).rejects.toMatchObject({ code: 'unavailable' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a client that leaves gives its page up, queued or being read', { timeout: 60_000 }, async () => {
    const reader = converter();
    const reading = new AbortController();
    const waiting = new AbortController();
    const first = reader.convert(hostile(), undefined, reading.signal);
    const second = reader.convert(hostile(), undefined, waiting.signal);
    const third = reader.convert(article);
    waiting.abort(new Error('second left'));
    reading.abort(new Error('first left'));
    await expect(first).rejects.toThrow('first left');
    await expect(second).rejects.toThrow('second left');
    await expect(third).resolves.toMatchObject({ title: 'Notes' });
  });
});
