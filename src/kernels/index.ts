/** Faster kernels for the lab's backends; see README.md for the contract. */
export { fastKernelNames, fastKernelsActive, registerFastKernels, restoreStockKernels } from './register';
export { countDeviceWork, deviceWorkPerStep, type DeviceWork, type DeviceWorkCounter } from './deviceWork';
