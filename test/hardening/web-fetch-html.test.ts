/**
 * A fetched page is attacker-chosen text, and turning it into Markdown is synchronous: every step that
 * sees the page whole must stay linear, or one web_fetch of a hostile page stalls the gateway's other
 * requests for minutes (the page may be up to ABPROXY_WEB_FETCH_MAX_BYTES, 10 MiB by default).
 */
import fc from 'fast-check';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import {
  flattenDeepNesting,
  htmlToMarkdown,
  MAX_NESTING,
  MAX_READABILITY_ELEMENTS,
  slimHtml,
} from '../../src/tools/web/html-to-markdown.ts';
import { expectLinear } from '../linear-time.ts';

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length));

/**
 * expectLinear for inputs that must stay under MAX_HTML_CHARS: 20 kB against 200 kB, where linear code
 * gives a ratio near 10 and quadratic code near 100 (the old code: 0.5 s against 96 s). The bound, 60,
 * leaves room for a loaded machine (linear code measured 41 once, beside two benchmarks) and the best of
 * several runs each side keeps one slow run from counting.
 */
function expectLinearUnderCut(input: (size: number) => string): void {
  const time = (html: string) => {
    const start = performance.now();
    htmlToMarkdown(html);
    return performance.now() - start;
  };
  const small = input(20_000);
  const large = input(200_000);
  time(small); // warm-up (JIT)
  const smallMs = Math.min(...Array.from({ length: 5 }, () => time(small)));
  const largeMs = Math.min(...Array.from({ length: 3 }, () => time(large)));
  expect(largeMs / smallMs, `200 kB: ${largeMs.toFixed(0)} ms, 20 kB: ${smallMs.toFixed(1)} ms`).toBeLessThan(
    60,
  );
}

describe('slimHtml on hostile pages', () => {
  it('openers that never close', { timeout: 60_000 }, () => {
    expectLinear((n) => fill('<script>', n), slimHtml);
    expectLinear((n) => fill('<style x>a', n), slimHtml);
    expectLinear((n) => fill('<svg>', n), slimHtml);
  });

  it('openers without a ">"', { timeout: 60_000 }, () => {
    expectLinear((n) => fill('<script', n), slimHtml);
    expectLinear((n) => fill('<iframe ', n), slimHtml);
  });

  it('comments that never close', { timeout: 60_000 }, () => {
    expectLinear((n) => fill('<!--', n), slimHtml);
    expectLinear((n) => fill('<!-- -', n), slimHtml);
  });

  it('closers that never end', { timeout: 60_000 }, () => {
    expectLinear((n) => `<script>${fill('</script ', n)}`, slimHtml);
  });
});

describe('htmlToMarkdown on hostile pages', () => {
  it('a page of unclosed scripts and comments', { timeout: 60_000 }, () => {
    expectLinear((n) => `<html><body><p>hi</p>${fill('<script><!--', n)}</body></html>`, htmlToMarkdown);
  });

  it('long runs of blank lines (turndown trims its output with a regular expression)', {
    timeout: 120_000,
  }, () => {
    // Under MAX_HTML_CHARS, so the run is not cut off the end of the page (a run at the end is cheap).
    expectLinearUnderCut((n) => `<html><body><pre>${fill(' \n', n)}x</pre></body></html>`);
    expectLinearUnderCut((n) => `<html><body><pre>${fill('&#10;', n)}x</pre></body></html>`);
    expectLinearUnderCut((n) => `<html><body><p>a${fill('<br>', n)}x</p></body></html>`);
    // Blank text split by empty elements: each piece is short, turndown writes them as one run.
    expectLinearUnderCut((n) => `<html><body><pre>${fill(' <i></i>', n)}x</pre></body></html>`);
    expectLinearUnderCut((n) => `<html><body><pre>${fill('\n<wbr>', n)}x</pre></body></html>`);
    expectLinearUnderCut((n) => `<html><body><div>a${fill('<p></p> ', n)}x</div></body></html>`);
  });

  it("deeply nested elements (Readability's cost grew with the cube of the depth)", {
    timeout: 120_000,
  }, () => {
    // 1,000 nested <div>s (11 kB) took seconds to minutes; 20 kB → 200 kB of nesting must stay linear.
    expectLinearUnderCut(
      (n) => `<html><body>${fill('<div>', n / 2)}deep text${fill('</div>', n / 2)}</body></html>`,
    );
    expectLinearUnderCut((n) => `<html><body>${fill('<div><p>', n)}deep text</body></html>`);
  });

  it("nesting deeper than the parser's stack keeps the text (turndown used to overflow its stack)", () => {
    const depth = 20_000;
    const { markdown } = htmlToMarkdown(
      `<html><body>${'<span>'.repeat(depth)}the words at the bottom${'</span>'.repeat(depth)}</body></html>`,
    );
    expect(markdown).toBe('the words at the bottom');
  });

  it('tens of thousands of children under an element past the depth are kept (they overflowed the stack)', () => {
    const { markdown } = htmlToMarkdown(
      `<html><body>${'<div>'.repeat(70)}${'x<br>'.repeat(50_000)}end</body></html>`,
    );
    expect(markdown.startsWith('x')).toBe(true);
    expect(markdown.endsWith('end')).toBe(true);
    expect(markdown.split('x').length - 1).toBe(50_000);
  });

  it('a page denser than Readability can take in time is turned whole into Markdown, its text kept', () => {
    const article = `<article><h1>Title</h1>${'<p>A sentence of the article, long enough to count as prose for Readability.</p>'.repeat(20)}</article>`;
    const nav = '<nav><a href="/a">Home</a> <a href="/b">About</a></nav>';
    const sparse = htmlToMarkdown(`<html><body>${nav}${article}</body></html>`);
    expect(sparse.markdown).not.toContain('About'); // Readability kept the article alone
    const dense = htmlToMarkdown(
      `<html><body>${nav}${article}<div>${'<i>w</i>'.repeat(MAX_READABILITY_ELEMENTS)}</div></body></html>`,
    );
    expect(dense.markdown).toContain('[About](/b)');
    expect(dense.markdown).toContain('A sentence of the article');
  });

  it('a page that is text without any element reads as that text (it used to throw)', () => {
    expect(htmlToMarkdown('just some text').markdown).toBe('just some text');
    expect(htmlToMarkdown('<!-- only a comment -->').markdown).toBe('');
    expect(htmlToMarkdown('').markdown).toBe('');
  });

  it('capping blank runs leaves code indentation and text as they are', () => {
    const code = 'function f() {\n    return 1;\n}\n\n\n  // end';
    const { markdown } = htmlToMarkdown(
      `<html><body><pre>${code}</pre><p>one <b>two</b> three</p></body></html>`,
    );
    expect(markdown).toContain('    return 1;');
    expect(markdown).toContain('one **two** three');
  });

  it('a list after a long blank run keeps its one-space markers', () => {
    const { markdown } = htmlToMarkdown(
      `<html><body><pre>${' \n'.repeat(5000)}</pre><ul><li>one</li></ul></body></html>`,
    );
    expect(markdown).toContain('- one');
  });
});

describe('slimHtml keeps its meaning', () => {
  it('drops what the former regular expressions dropped, on generated pages', () => {
    const former = (html: string) =>
      html
        .replace(/<!--[\s\S]*?-->/g, '')
        .replace(/<(script|style|svg|noscript|template|iframe)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
    const piece = fc.constantFrom(
      '<script>',
      '<SCRIPT a="1">',
      '</script>',
      '</Script >',
      '<style>',
      '</style>',
      '<svg',
      '>',
      '</svg>',
      '<scripts>',
      '</scripts>',
      '<!--',
      '-->',
      '<p>',
      'text',
      ' ',
      '\n',
      'İ',
      '<iframe/>',
      '</iframe\n>',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const html = pieces.join('');
        expect(slimHtml(html)).toBe(former(html));
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('flattenDeepNesting', () => {
  type PageElement = ReturnType<typeof parseHTML>['document']['documentElement'];
  const depthOf = (root: PageElement): number => {
    let deepest = 0;
    const pending: [PageElement, number][] = [[root, 0]];
    for (let next = pending.pop(); next; next = pending.pop()) {
      deepest = Math.max(deepest, next[1]);
      for (const child of next[0].children) pending.push([child, next[1] + 1]);
    }
    return deepest;
  };

  it('keeps the text, in order, and the structure down to its depth', () => {
    const { document } = parseHTML(
      `<html><body>${'<div>a'.repeat(200)}<b>bold</b><a href="/x">link</a>${'z</div>'.repeat(200)}<p>after</p></body></html>`,
    );
    const root = document.documentElement;
    const before = root.textContent;
    flattenDeepNesting(root);
    expect(root.textContent).toBe(before);
    expect(depthOf(root)).toBe(MAX_NESTING);
    expect(document.querySelector('p')?.textContent).toBe('after');
  });

  it('leaves a page within the depth as it is', () => {
    const html = '<html><body><div><ul><li><a href="/x">one</a></li></ul></div></body></html>';
    const { document } = parseHTML(html);
    flattenDeepNesting(document.documentElement);
    expect(document.toString()).toBe(parseHTML(html).document.toString());
  });
});
