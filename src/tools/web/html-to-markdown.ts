/**
 * HTML → the article's main text as Markdown: @mozilla/readability on a linkedom DOM, then turndown.
 * Its own module so that the gateway loads these libraries only when a page is fetched.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';

const turndown = new TurndownService({
  headingStyle: 'atx',
  codeBlockStyle: 'fenced',
  bulletListMarker: '-',
});
turndown.remove(['script', 'style', 'noscript', 'iframe', 'form']);

/**
 * HTML parsed for extraction at most (after scripts, styles, SVG and comments are dropped): parsing is
 * synchronous (Readability: about 1 s per 500 kB of dense markup here) and must not stall the
 * gateway's other requests for long. Longer pages are read from their start, and the text says so.
 */
export const MAX_HTML_CHARS = 256 * 1024;

/** The page without what never reads as text, cut to MAX_HTML_CHARS. Pure. */
export function slimHtml(html: string): string {
  const slim = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|svg|noscript|template|iframe)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
  return slim.length <= MAX_HTML_CHARS ? slim : slim.slice(0, MAX_HTML_CHARS);
}

/** The main content of an HTML page as Markdown, and its title. Pure. */
export function htmlToMarkdown(page: string, url?: string): { title?: string; markdown: string } {
  const html = slimHtml(page);
  const { document } = parseHTML(html);
  const pageTitle = document.querySelector('title')?.textContent?.trim() || undefined;
  let article: { title?: string | null; content?: string | null } | null = null;
  try {
    // Readability changes the DOM it reads: give it its own copy.
    const copy = parseHTML(html).document;
    if (url) {
      const base = copy.createElement('base');
      base.setAttribute('href', url);
      copy.head?.prepend(base);
    }
    article = new Readability(copy as unknown as Document, { charThreshold: 100 }).parse();
  } catch {
    article = null;
  }
  const body = article?.content || document.body?.innerHTML || html;
  const markdown = turndown
    .turndown(body)
    // turndown pads list markers to 4 columns ("-   item"): one space reads as people write it.
    .replace(/^(\s*)(-|\d+\.) {2,}/gm, '$1$2 ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const title = article?.title?.trim() || pageTitle;
  const cut = html.length === MAX_HTML_CHARS && html !== page;
  return {
    ...(title ? { title } : {}),
    markdown: cut ? `${markdown}\n\n[…the rest of the page was not read]` : markdown,
  };
}
