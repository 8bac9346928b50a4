// Shows running jobs in the taskbar / dock icon (the window may be in the background for hours).
import type { BrowserWindow } from 'electron';
import type { Events } from '../shared/contract.js';
import type { Services } from '../api/services.js';

export function setupTaskbarProgress(win: BrowserWindow, services: Services): () => void {
  return services.subscribe((event, payload) => {
    if (win.isDestroyed()) return;
    if (event === 'job.progress') {
      const p = (payload as Events['job.progress']).progress;
      // -1 removes the bar, 2 (> 1) shows an indeterminate one.
      win.setProgressBar(p && p.total > 0 ? Math.min(1, p.done / p.total) : 2);
    } else if (event === 'job.done' && services.jobs.running().length === 0) {
      win.setProgressBar(-1);
    }
  });
}
