/**
 * Chats and their messages, stored as AI SDK UIMessages as they happen, and the approvals a chat
 * turn asked a person for (only ids issued here, for this chat and user, are honoured).
 */
export default /* sql */ `
CREATE TABLE chats (
  id          text PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs (id),
  owner_id    uuid NOT NULL REFERENCES users (id),
  title       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chats_owner_idx ON chats (owner_id, updated_at DESC);

CREATE TABLE chat_messages (
  chat_id     text NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  id          text NOT NULL,
  seq         integer NOT NULL,
  role        text NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  message     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chat_id, id),
  UNIQUE (chat_id, seq)
);

CREATE TABLE chat_approvals (
  id            text PRIMARY KEY,
  chat_id       text NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES users (id),
  tool_call_id  text NOT NULL,
  tool_name     text NOT NULL,
  input         jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
  created_at    timestamptz NOT NULL DEFAULT now()
);
`;
