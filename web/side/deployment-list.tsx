import { locationUrl } from './dagster-links.ts';
import { deploymentStatusView } from './status.ts';
import { StatusBadge } from './status-badge.tsx';
import type { Deployment } from './types.ts';

const SHOWN = 5;

/** The newest deployments, each with what the service or Dagster said about it. */
export function DeploymentList({ deployments, uiBases }: { deployments: Deployment[]; uiBases: ReadonlyMap<string, string> }) {
  return (
    <ul className="deployment-list">
      {deployments.slice(0, SHOWN).map((d) => {
        const ui = uiBases.get(d.environment);
        return (
          <li key={d.id} data-testid="deployment-row" data-status={d.status}>
            <div className="row-head">
              <span>
                v{d.version} → {d.environment}
              </span>
              <StatusBadge text={d.status} view={deploymentStatusView(d.status)} />
            </div>
            <div className="side-muted">
              {new Date(d.updated_at).toLocaleString()}
              {ui && d.status === 'deployed' ? (
                <>
                  {' · '}
                  <a href={locationUrl(ui, d.location_name)} target="_blank" rel="noreferrer" data-testid="dagster-link">
                    {d.location_name}
                  </a>
                </>
              ) : null}
            </div>
            {d.error ? <pre className="side-error-text">{d.error}</pre> : d.message ? <div className="side-muted">{d.message}</div> : null}
          </li>
        );
      })}
      {deployments.length > SHOWN ? <li className="side-muted">and {deployments.length - SHOWN} older</li> : null}
    </ul>
  );
}
