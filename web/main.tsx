import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { KeyGate } from './auth/key-gate.tsx';
import './styles.css';

// The gate asks the service whether a key is needed before the page (chat, side view) calls anything.
createRoot(document.getElementById('root')!).render(
  <KeyGate>
    <App />
  </KeyGate>,
);
