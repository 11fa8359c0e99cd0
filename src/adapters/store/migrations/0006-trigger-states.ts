/**
 * Trigger states: whether a person (or a tool) paused a pipeline's schedules and sensors in an
 * environment. Dagster keeps the state it was told across reloads, but a trigger that a later
 * version adds starts RUNNING (its default); a deploy reads this row and pauses those too.
 */
export default /* sql */ `
CREATE TABLE trigger_states (
  pipeline_id  uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
  environment  text NOT NULL,
  paused       boolean NOT NULL,
  updated_by   uuid NOT NULL REFERENCES users (id),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline_id, environment)
);
`;
