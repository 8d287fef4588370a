/**
 * HTML → the article's main text as Markdown: @mozilla/readability on a linkedom DOM, then turndown.
 * Runs in the HTML reader's worker thread (html-worker.ts), which alone loads these libraries.
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
 * synchronous (Readability: about 1 s per 500 kB of dense markup here) and holds the reader, which
 * serves one page at a time, for that long. Longer pages are read from their start, and the text says so.
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

/**
 * Readability runs on pages of at most this many elements; a denser page is turned whole into Markdown
 * (its text kept, its navigation too). Readability takes 20–60 µs an element here, turndown a tenth of
 * that: a 256 kB page of tiny elements (35,000) took 2 s of the event loop. Real pages cut at 256 kB
 * hold a few thousand.
 */
export const MAX_READABILITY_ELEMENTS = 12_000;

type PageDocument = ReturnType<typeof parseHTML>['document'];
type PageElement = PageDocument['documentElement'];
type PageNode = PageElement['firstChild'] & object;
type PageText = PageNode & { data: string };
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/**
 * Deepest element nesting kept. Readability's cost grows with the cube of the nesting (1,000 nested
 * `<div>`s, 11 kB, took seconds to minutes) and turndown's parser recurses once per level (3,000
 * nested `<span>`s overflowed its stack); real pages stay well under this.
 */
export const MAX_NESTING = 64;

/**
 * Elements deeper than MAX_NESTING replaced by their children, so their text stays and only the
 * structure goes. Iterative: the parser (linkedom) builds any depth without recursing, this must too.
 * Returns how many elements the page keeps.
 */
export function flattenDeepNesting(root: PageElement, maxDepth = MAX_NESTING): number {
  const pending: { element: PageElement; depth: number }[] = [{ element: root, depth: 0 }];
  let elements = 0;
  for (let next = pending.pop(); next; next = pending.pop()) {
    elements++;
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
  return elements;
}

/** What turndown writes for an element with nothing in it, counted as blank space: `<br>` a line break, a block its blank line. */
const BLANK_OUTPUT: Record<string, number> = {
  BR: 3,
  P: 2,
  DIV: 2,
  LI: 2,
  PRE: 2,
  BLOCKQUOTE: 2,
  TR: 2,
  TD: 2,
};

/**
 * Blank space across nodes kept under MAX_WHITESPACE_RUN: whitespace text split by empty elements
 * (`<pre> <i></i> <i></i>…`), runs of `<br>`s or of empty blocks each stay under the cap on their own,
 * but turndown writes them as one run, and trims its output with `/[\t\r\n\s]+$/`, which costs the
 * square of every run (a 64k run: seconds). Whitespace text past the cap is cut; empty elements past
 * it are dropped. One pass in document order, without recursion.
 */
export function capBlankRuns(root: PageElement): void {
  let run = 0;
  let node = root.firstChild as PageNode | null;
  while (node) {
    let next: PageNode | null = null;
    if (node.nodeType === TEXT_NODE) {
      const text = (node as PageText).data;
      const firstInk = text.search(/\S/);
      if (firstInk < 0) {
        const room = Math.max(0, MAX_WHITESPACE_RUN - run);
        if (text.length > room) (node as PageText).data = text.slice(0, room);
        run += Math.min(text.length, room);
      } else {
        if (run + firstInk > MAX_WHITESPACE_RUN) {
          (node as PageText).data =
            text.slice(0, Math.max(0, MAX_WHITESPACE_RUN - run)) + text.slice(firstInk);
        }
        // Its trailing blank begins the next run (trimEnd, not a `\s*$` search: that is quadratic too).
        run = text.length - text.trimEnd().length;
      }
    } else if (node.nodeType === ELEMENT_NODE) {
      const element = node as PageElement;
      if (element.firstChild) {
        run += BLANK_OUTPUT[element.nodeName] ?? 0;
        next = element.firstChild as PageNode;
      } else {
        const blank = BLANK_OUTPUT[element.nodeName] ?? 0;
        if (run + blank > MAX_WHITESPACE_RUN) {
          next = following(element, root);
          element.remove();
          node = next;
          continue;
        }
        run += blank;
      }
    }
    node = next ?? following(node, root);
  }
}

/** The node after `node` in document order once its subtree is done, within `root`. */
function following(node: PageNode, root: PageElement): PageNode | null {
  for (
    let at: PageNode | null = node;
    at && at !== (root as unknown as PageNode);
    at = at.parentNode as PageNode | null
  ) {
    if (at.nextSibling) return at.nextSibling as PageNode;
  }
  return null;
}

/**
 * The page as a DOM no deeper than MAX_NESTING, its blank runs capped, and its count of elements; text
 * with no element at all is read as a body.
 */
function parsePage(html: string): { document: PageDocument; elements: number } {
  let { document } = parseHTML(html);
  if (!document.documentElement) document = parseHTML(`<html><body>${html}</body></html>`).document;
  const elements = flattenDeepNesting(document.documentElement);
  capBlankRuns(document.documentElement);
  return { document, elements };
}

/** Readability's main article of a page, when it finds one. */
function mainArticle(
  html: string,
  url: string | undefined,
): { title?: string | null; content?: string | null } | null {
  try {
    // Readability changes the DOM it reads: give it its own copy.
    const copy = parseHTML(html).document;
    if (url) {
      const base = copy.createElement('base');
      base.setAttribute('href', url);
      copy.head?.prepend(base);
    }
    return new Readability(copy as unknown as Document, { charThreshold: 100 }).parse();
  } catch {
    return null;
  }
}

/** The main content of an HTML page as Markdown, and its title. Pure. */
export function htmlToMarkdown(page: string, url?: string): { title?: string; markdown: string } {
  const slim = slimHtml(page);
  const { document, elements } = parsePage(slim);
  const html = document.documentElement.outerHTML;
  const pageTitle = document.querySelector('title')?.textContent?.trim() || undefined;
  const article = elements <= MAX_READABILITY_ELEMENTS ? mainArticle(html, url) : null;
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
