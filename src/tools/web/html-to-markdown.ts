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

/** Elements whose content never reads as text. */
const DROPPED_ELEMENTS = /<(script|style|svg|noscript|template|iframe)\b/gi;

/**
 * Comments (`<!--…-->`) dropped, in one pass: a comment that never closes means none after it does
 * either, so it and the rest stay as they are. Linear, whatever the page.
 */
function dropComments(html: string): string {
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    const open = html.indexOf('<!--', at);
    if (open < 0) break;
    const close = html.indexOf('-->', open + 4);
    if (close < 0) break;
    parts.push(html.slice(at, open));
    at = close + 3;
  }
  parts.push(html.slice(at));
  return parts.join('');
}

/**
 * `<script …>…</script>` and the other DROPPED_ELEMENTS removed with their content, in one pass. A
 * regular expression with a lazy body retries from every opener and is quadratic on a page of openers
 * that never close (seconds per 100 kB); here each search that reaches the page's end is remembered.
 */
function dropElements(html: string): string {
  const parts: string[] = [];
  const neverCloses = new Set<string>();
  const opener = new RegExp(DROPPED_ELEMENTS.source, 'gi');
  let at = 0;
  for (;;) {
    const match = opener.exec(html);
    if (!match) break;
    const name = match[1]!.toLowerCase();
    if (neverCloses.has(name)) continue;
    const end = html.indexOf('>', opener.lastIndex);
    if (end < 0) break; // no opener after this one ends either
    const close = closingTag(html, name, end + 1);
    if (close === undefined) {
      neverCloses.add(name);
      continue;
    }
    parts.push(html.slice(at, match.index));
    at = close;
    opener.lastIndex = close;
  }
  parts.push(html.slice(at));
  return parts.join('');
}

/** Where `</name\s*>` ends in `html`, searching from `from`; undefined when it never comes. */
function closingTag(html: string, name: string, from: number): number | undefined {
  const closer = new RegExp(`</${name}\\s*>`, 'gi');
  closer.lastIndex = from;
  return closer.exec(html) ? closer.lastIndex : undefined;
}

/**
 * Longest whitespace run kept: turndown trims its output with `/[\t\r\n\s]+$/`, which costs the
 * square of every whitespace run in the page (a 64 kB `<pre>` of " \n" took 5 s). No reader needs
 * more blank space than this.
 */
export const MAX_WHITESPACE_RUN = 200;

const shortenWhitespace = (html: string): string =>
  html.replace(/\s+/g, (run) => (run.length > MAX_WHITESPACE_RUN ? run.slice(0, MAX_WHITESPACE_RUN) : run));

/** The page without what never reads as text, cut to MAX_HTML_CHARS. Pure and linear. */
export function slimHtml(html: string): string {
  const slim = shortenWhitespace(dropElements(dropComments(html)));
  return slim.length <= MAX_HTML_CHARS ? slim : slim.slice(0, MAX_HTML_CHARS);
}

type PageDocument = ReturnType<typeof parseHTML>['document'];
type PageElement = PageDocument['documentElement'];

/**
 * Deepest element nesting kept. Readability's cost grows with the cube of the nesting (1,000 nested
 * `<div>`s, 11 kB, took seconds to minutes) and turndown's parser recurses once per level (3,000
 * nested `<span>`s overflowed its stack); real pages stay well under this.
 */
export const MAX_NESTING = 64;

/**
 * Elements deeper than MAX_NESTING replaced by their children, so their text stays and only the
 * structure goes. Iterative: the parser (linkedom) builds any depth without recursing, this must too.
 */
export function flattenDeepNesting(root: PageElement, maxDepth = MAX_NESTING): void {
  const pending: { element: PageElement; depth: number }[] = [{ element: root, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { element, depth } = next;
    for (let child = element.firstElementChild; child; ) {
      const following = child.nextElementSibling;
      if (depth + 1 > maxDepth) {
        // Its children take its place, at its depth: they are unwrapped in turn as the loop reaches them.
        const first = child.firstElementChild;
        // One node at a time: replaceWith(...childNodes) spreads them as arguments, and 60,000 of them
        // (a page of <br>s) overflow the stack.
        for (let node = child.firstChild; node; node = child.firstChild) element.insertBefore(node, child);
        child.remove();
        child = first ?? following;
        continue;
      }
      pending.push({ element: child, depth: depth + 1 });
      child = following;
    }
  }
}

/** The page as a DOM no deeper than MAX_NESTING; text with no element at all is read as a body. */
function parsePage(html: string): PageDocument {
  let { document } = parseHTML(html);
  if (!document.documentElement) document = parseHTML(`<html><body>${html}</body></html>`).document;
  flattenDeepNesting(document.documentElement);
  return document;
}

/** The main content of an HTML page as Markdown, and its title. Pure. */
export function htmlToMarkdown(page: string, url?: string): { title?: string; markdown: string } {
  const slim = slimHtml(page);
  const document = parsePage(slim);
  const html = document.documentElement.outerHTML;
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
    // turndown pads list markers to 4 columns ("-   item"): one space reads as people write it. The
    // indent is matched within its line: `\s*` would span lines and cost the square of a blank run.
    .replace(/^([ \t]*)(-|\d+\.) {2,}/gm, '$1$2 ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const title = article?.title?.trim() || pageTitle;
  const cut = slim.length === MAX_HTML_CHARS && slim !== page;
  return {
    ...(title ? { title } : {}),
    markdown: cut ? `${markdown}\n\n[…the rest of the page was not read]` : markdown,
  };
}
