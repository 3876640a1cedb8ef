/**
 * Global average pooling, `y[n, c] = (1 / (H·W)) Σ_{h,w} x[n, h, w, c]` (resnet8's last trunk
 * op), through kernels a backend may provide (src/kernels registers them on webgpu: one program
 * each way instead of tfjs's transpose + reduction forward and its broadcast gradient); elsewhere
 * `globalAvgPool` is `tf.mean(x, [1, 2])`. Core names the kernels and owns the gradient:
 *
 *   GLOBAL_AVG_POOL_KERNEL       inputs { x [N, H, W, C] } → [y [N, C]]
 *   GLOBAL_AVG_POOL_GRAD_KERNEL  inputs { dy [N, C] }, attrs { height H, width W }
 *                                → [∂x [N, H, W, C] = dy[n, c] / (H·W) at every (h, w)]
 */
import * as tf from '@tensorflow/tfjs';

export const GLOBAL_AVG_POOL_KERNEL = 'ResclGlobalAvgPool';
export const GLOBAL_AVG_POOL_GRAD_KERNEL = 'ResclGlobalAvgPoolGrad';

/** Attributes of GLOBAL_AVG_POOL_GRAD_KERNEL: the pooled input's spatial size. */
export interface GlobalAvgPoolGradAttrs { height: number; width: number }

tf.registerGradient({
  kernelName: GLOBAL_AVG_POOL_KERNEL,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const attrs: GlobalAvgPoolGradAttrs = { height: x.shape[1] as number, width: x.shape[2] as number };
    return { x: () => tf.engine().runKernel(GLOBAL_AVG_POOL_GRAD_KERNEL, { dy: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor };
  },
});

/** Mean over the spatial axes: x [N, H, W, C] → [N, C], one kernel each way where the backend has them. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  const backend = tf.getBackend();
  if (x.dtype !== 'float32' || !tf.getKernel(GLOBAL_AVG_POOL_KERNEL, backend) || !tf.getKernel(GLOBAL_AVG_POOL_GRAD_KERNEL, backend)) return tf.mean(x, [1, 2]);
  return tf.engine().runKernel(GLOBAL_AVG_POOL_KERNEL, { x }, {}) as tf.Tensor2D;
}
