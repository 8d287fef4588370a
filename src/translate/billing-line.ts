/**
 * Claude Code's first system block is a per-session billing/attribution line
 * (`x-anthropic-billing-header: cc_version=…; cch=…;`). It is metadata for Anthropic's own billing,
 * means nothing on Bedrock, and, being different in every session, would make every prompt prefix
 * unique and defeat prompt caching. Both paths leave it out.
 */
const BILLING_LINE = /^\s*x-anthropic-billing-header:/i;

export function isBillingLine(text: string): boolean {
  return BILLING_LINE.test(text);
}
