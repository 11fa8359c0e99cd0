import { useState } from 'react';
import { api } from './api.ts';
import { PendingApprovals } from './approvals/pending-approvals.tsx';
import { ChatPanel } from './chat/chat-panel.tsx';
import { SidePanel } from './side/side-panel.tsx';

/**
 * The page: the chat (with the pipeline it is building drawn beside it) and a side view of the
 * org's pipelines, deployments and runs. Selecting a pipeline in either place shows it in both.
 */
export function App() {
  const [pipelineId, setPipelineId] = useState<string | null>(null);
  return (
    <div className="layout">
      <header className="topbar">
        <h1>Constellation Agent</h1>
        <nav>
          <a href="/docs">API reference</a>
        </nav>
      </header>
      <main className="chat-area">
        <PendingApprovals api={api} />
        <ChatPanel api={api} pipelineId={pipelineId} onPipeline={setPipelineId} />
      </main>
      <aside className="side-area">
        <SidePanel api={api} pipelineId={pipelineId} onSelectPipeline={setPipelineId} />
      </aside>
    </div>
  );
}
