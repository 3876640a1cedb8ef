/** Saves exported files as browser downloads (the store's only DOM side effect). */
import type { ExportArtifactsEvent } from '../engine/protocol';

export function saveFiles(event: ExportArtifactsEvent): void {
  for (const f of event.files) {
    const url = URL.createObjectURL(new Blob([f.data], { type: f.mimeType }));
    const a = document.createElement('a');
    a.href = url;
    a.download = f.name;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
