import fc from 'fast-check';

/**
 * Text that breaks naive code generators: quotes and triple quotes, escapes, format and template
 * syntax, Python that would run if it ever became source, and Unicode that changes width,
 * direction or normalisation. Every piece is text a user may legitimately type.
 */
export const HOSTILE_PIECES = [
  '"""', "'''", '"', "'", '\\', '\\n', '\\u0041', '\n', '\r\n', '\r', '\t', '\u2028', '\u2029',
  '__import__("os").system("id")', '"); import os; os.system("id") #', "'''; exec('1') #",
  '{x}', '${x}', '%s', '%(x)s', '\\N{BULLET}', '{{ 7*7 }}', '</script>', '# noqa', 'None',
  'é', 'e\u0301', 'ﬁ', '🚀', '👩‍👩‍👧', 'שלום', '中文', '\u202e', '\u200b', '\ufeff', ' ',
];

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const wellFormedPrintable = (s: string) => !LONE_SURROGATE.test(s) && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s);

/**
 * Text a spec may carry in names and descriptions: hostile pieces mixed with random graphemes,
 * but no NUL or lone surrogate (issue 11 has the service refuse them) and no other C0 control
 * (a rule that may follow), so a spec meant to be valid stays valid; tab, CR and LF are kept.
 */
export const hostileText = ({ minLength = 0, maxLength }: { minLength?: number; maxLength: number }) =>
  fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES), fc.string({ unit: 'grapheme', maxLength: 10 })), { maxLength: 6 })
    .map((parts) => parts.join(''))
    .filter((s) => s.length >= minLength && s.length <= maxLength && wellFormedPrintable(s));

/** Text no valid spec should carry: NUL, lone surrogates, other controls, or anything at all. */
export const nastyText = ({ minLength = 0, maxLength }: { minLength?: number; maxLength: number }) =>
  fc
    .oneof(
      fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\u0001', '\u001b[31m', '\u007f', '\u0085', '\u0000"""'),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.tuple(hostileText({ maxLength: 60 }), fc.constantFrom('\u0000', '\ud800', '\u0007')).map(([a, b]) => a + b),
      fc.constant('x'.repeat(maxLength)),
    )
    .filter((s) => s.length >= minLength && s.length <= maxLength);
