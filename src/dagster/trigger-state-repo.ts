import type { Db } from '../adapters/store/db.ts';
import type { Principal } from '../auth/principal.ts';

/** Whether a pipeline's schedules and sensors are meant to be paused in an environment (absent: as deployed, running). */
export class TriggerStateRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async paused(pipelineId: string, environment: string): Promise<boolean> {
    const [row] = await this.db.query<{ paused: boolean }>(`SELECT paused FROM trigger_states WHERE pipeline_id = $1 AND environment = $2`, [pipelineId, environment]);
    return row?.paused ?? false;
  }

  async set(principal: Principal, pipelineId: string, environment: string, paused: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO trigger_states (pipeline_id, environment, paused, updated_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (pipeline_id, environment) DO UPDATE SET paused = EXCLUDED.paused, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [pipelineId, environment, paused, principal.userId],
    );
  }
}
