/**
 * Every classic trick to get a non-local destination past
 * reject_unauth_destination: percent hack, quoted local parts, double @,
 * source routes (with an address literal of the server itself), bang paths,
 * IP literals, a trailing dot, an unqualified recipient.
 */
export const RELAY_TRICKS = [
  'victim@outside.test',
  'victim%outside.test@example.test',
  'victim%outside.test@[127.0.0.1]',
  '"victim@outside.test"@example.test',
  '"victim%outside.test"@example.test',
  'victim@outside.test@example.test',
  '@example.test:victim@outside.test',
  '@[127.0.0.1]:victim@outside.test',
  'outside.test!victim@example.test',
  'outside.test!victim',
  'victim@[192.0.2.1]',
  'victim@outside.test.',
  'victim',
  'alice@example.test@outside.test',
];

/** Senders a relay attempt claims: a forged local one, an outside one, unqualified, and the null sender. */
export const RELAY_SENDERS = ['alice@example.test', 'someone@outside.test', 'alice', ''];
