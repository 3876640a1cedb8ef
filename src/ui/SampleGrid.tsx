import { useEffect, useRef } from 'react';

const SIDE = 28;

/** Draws up to 16 28x28 grayscale images (784 uint8 each, concatenated) as a 4x4 grid. */
export function SampleGrid({ images, labels, classNames, title }: { images: ArrayBuffer; labels: number[]; classNames: string[]; title: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const count = Math.min(16, Math.floor(images.byteLength / (SIDE * SIDE)));
  const cols = 4;
  const rows = Math.max(1, Math.ceil(count / cols));
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const bytes = new Uint8Array(images);
    const img = ctx.createImageData(cols * SIDE, rows * SIDE);
    for (let k = 0; k < count; k++) {
      const ox = (k % cols) * SIDE;
      const oy = Math.floor(k / cols) * SIDE;
      for (let y = 0; y < SIDE; y++) {
        for (let x = 0; x < SIDE; x++) {
          const v = bytes[k * SIDE * SIDE + y * SIDE + x];
          const o = ((oy + y) * cols * SIDE + ox + x) * 4;
          img.data[o] = v;
          img.data[o + 1] = v;
          img.data[o + 2] = v;
          img.data[o + 3] = 255;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
  }, [images, count, rows]);
  const described = labels.slice(0, count).map((l) => classNames[l] ?? String(l)).join(', ');
  return (
    <figure className="samples">
      <canvas ref={ref} width={cols * SIDE} height={rows * SIDE} role="img" aria-label={`${title}: ${described}`} />
      <figcaption>{title}</figcaption>
    </figure>
  );
}
