/**
 * Approvals a model cannot give itself (issue 15): one-time tokens a model could read and paste
 * back go; approval requests (0007) that only a person answers take their place. A chat's pending
 * approval keeps no token and only its id's hash (the same hash as its approval request's), so
 * rows that were written before lose both here.
 */
export default /* sql */ `
DROP TABLE approval_tokens;

UPDATE chat_approvals
   SET id = encode(sha256(convert_to(id, 'UTF8')), 'hex'),
       input = input - 'confirmation_token';
-- A pending approval from before has no request a person could answer: it can only be asked again.
UPDATE chat_approvals SET status = 'denied' WHERE status = 'pending';
`;
