/**
 * One-time confirmation tokens, kept in the store so that a token one instance issued works on
 * another and after a restart. Only a hash of each token is kept: the token itself is a secret the
 * caller holds.
 */
export default /* sql */ `
CREATE TABLE approval_tokens (
  token_hash  text PRIMARY KEY,
  call_key    text NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX approval_tokens_expiry_idx ON approval_tokens (expires_at);
`;
