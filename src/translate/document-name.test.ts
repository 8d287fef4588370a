import { describe, expect, it } from 'vitest';
import { DocumentNames, sanitizeDocumentName } from './document-name.ts';

// Bedrock's rule: ASCII letters/digits, single spaces, hyphens, parentheses, square brackets; 1–200 chars.
const VALID = /^[A-Za-z0-9\-()[\]]+( [A-Za-z0-9\-()[\]]+)*$/;

describe('sanitizeDocumentName', () => {
  it.each([
    ["John's report", 'John s report'],
    ['invoice #123', 'invoice 123'],
    ['a&b', 'a b'],
    ['report,2026.pdf', 'report 2026 pdf'],
    ['résumé', 'resume'],
    ['Report -  Final', 'Report - Final'],
    ['a\tb', 'a b'],
    ['  [draft] (v2)  ', '[draft] (v2)'],
  ])('%j → %j', (title, expected) => {
    const name = sanitizeDocumentName(title);
    expect(name).toBe(expected);
    expect(name).toMatch(VALID);
  });

  it('returns empty when nothing of the title survives', () => {
    expect(sanitizeDocumentName('분기보고서')).toBe('');
    expect(sanitizeDocumentName('!!!')).toBe('');
  });

  it('keeps names within 200 characters', () => {
    const name = sanitizeDocumentName(`${'word '.repeat(100)}`);
    expect(name.length).toBeLessThanOrEqual(200);
    expect(name).toMatch(VALID);
  });
});

describe('DocumentNames', () => {
  it('numbers untitled documents and titles that do not survive', () => {
    const names = new DocumentNames();
    expect([names.next(), names.next(null), names.next('분기보고서')]).toEqual([
      'document-1',
      'document-2',
      'document-3',
    ]);
  });

  it('makes repeated titles unique, case-insensitively, also against generated names', () => {
    const names = new DocumentNames();
    const got = [names.next('Report'), names.next('report'), names.next('Report'), names.next('document-1')];
    got.push(names.next());
    expect(got).toEqual(['Report', 'report (2)', 'Report (3)', 'document-1', 'document-1 (2)']);
    expect(new Set(got.map((n) => n.toLowerCase())).size).toBe(got.length);
  });

  it('stays within 200 characters when a suffix is added', () => {
    const names = new DocumentNames();
    const long = 'x'.repeat(250);
    names.next(long);
    const second = names.next(long);
    expect(second.length).toBeLessThanOrEqual(200);
    expect(second.endsWith(' (2)')).toBe(true);
    expect(second).toMatch(VALID);
  });
});
