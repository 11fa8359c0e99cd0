/**
 * One pending approval request per exact call: an agent that makes a gated call again before a
 * person answered used to open another request each time, and every one of them, approved
 * later, let the call through once more. A new request now supersedes the call's pending one.
 */
export default /* sql */ `
ALTER TABLE approval_requests DROP CONSTRAINT approval_requests_status_check;
ALTER TABLE approval_requests ADD CONSTRAINT approval_requests_status_check
  CHECK (status IN ('pending', 'approved', 'denied', 'used', 'superseded'));

UPDATE approval_requests older SET status = 'superseded'
 WHERE status = 'pending'
   AND EXISTS (SELECT 1 FROM approval_requests newer
                WHERE newer.call_key = older.call_key AND newer.status = 'pending'
                  AND (newer.created_at, newer.id_hash) > (older.created_at, older.id_hash));

CREATE UNIQUE INDEX approval_requests_one_pending ON approval_requests (call_key) WHERE status = 'pending';
`;
