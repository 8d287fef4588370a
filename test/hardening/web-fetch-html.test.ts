/**
 * A fetched page is attacker-chosen text, and turning it into Markdown is synchronous: every step that
 * sees the page whole must stay linear, or one web_fetch of a hostile page stalls the gateway's other
 * requests for minutes (the page may be up to ABPROXY_WEB_FETCH_MAX_BYTES, 10 MiB by default).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { htmlToMarkdown, slimHtml } from '../../src/tools/web/fetch-page.ts';
import { expectLinear } from '../linear-time.ts';

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length));

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
