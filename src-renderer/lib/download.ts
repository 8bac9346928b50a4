// Saves a text or a Blob through the browser's download (works the same in Electron).
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function downloadText(name: string, text: string, type = 'text/plain'): void {
  downloadBlob(name, new Blob([text], { type }));
}

/** Every chart canvas inside `root`, tiled into one PNG with its caption above each. */
export async function canvasesToPng(root: HTMLElement, columns = 2): Promise<Blob | null> {
  const figures = [...root.querySelectorAll<HTMLElement>('figure[data-metric]')];
  if (!figures.length) return null;
  const w = 640;
  const h = 300;
  const rows = Math.ceil(figures.length / columns);
  const out = document.createElement('canvas');
  out.width = w * columns;
  out.height = h * rows;
  const g = out.getContext('2d')!;
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, out.width, out.height);
  figures.forEach((fig, i) => {
    const x = (i % columns) * w;
    const y = Math.floor(i / columns) * h;
    g.fillStyle = '#111827';
    g.font = 'bold 14px sans-serif';
    g.fillText(fig.dataset.metric ?? '', x + 12, y + 22);
    const c = fig.querySelector('canvas');
    if (c) g.drawImage(c, x + 8, y + 32, w - 16, h - 40);
  });
  return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
}
