import { createRequire } from 'node:module';
import { DeviceLostError, GpuValidationError, NoAdapterError } from './errors.js';

const require = createRequire(import.meta.url);

export interface DeviceOptions {
  powerPreference?: 'low-power' | 'high-performance';
  /** Dawn toggles/options passed to webgpu's create(), e.g. ['backend=vulkan']. */
  dawnOptions?: string[];
}

const NO_ADAPTER_HELP = [
  'Dawn found no WebGPU adapter on this machine.',
  'kiln needs a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver.',
  "On a CPU-only Debian/Ubuntu machine install Mesa's lavapipe, version 24 or newer",
  '(Debian bookworm: enable bookworm-backports, then `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`).',
  'Check with `vulkaninfo --summary` (package vulkan-tools).',
].join(' ');

/**
 * A WebGPU device over Dawn. Passed explicitly to everything that runs on the GPU: there is no global device.
 */
export class Device {
  private lostReason: string | undefined;

  private constructor(
    readonly gpu: GPUDevice,
    readonly adapterInfo: { vendor: string; architecture: string; device: string; description: string },
    readonly features: ReadonlySet<string>,
    private readonly keepAlive: unknown,
  ) {
    void gpu.lost.then((info) => {
      this.lostReason = info.message || String(info.reason);
    });
  }

  /** A stable description of the adapter, used to key autotuning caches. */
  get description(): string {
    const i = this.adapterInfo;
    return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'unknown adapter';
  }

  /** True on a software rasteriser (lavapipe, SwiftShader): kernel choice and timing differ there. */
  get isCpu(): boolean {
    return /llvmpipe|lavapipe|swiftshader|software/i.test(this.description);
  }

  static async open(o: DeviceOptions = {}): Promise<Device> {
    let webgpu: { create: (opts: string[]) => GPU; globals: Record<string, unknown> };
    try {
      webgpu = require('webgpu');
    } catch (e) {
      throw new NoAdapterError(`the 'webgpu' package (Dawn for Node.js) could not be loaded: ${(e as Error).message}`);
    }
    // Dawn's JS classes (GPUBufferUsage, …) must be global for code written against the WebGPU spec.
    for (const [k, v] of Object.entries(webgpu.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    let gpu: GPU;
    try {
      gpu = webgpu.create(o.dawnOptions ?? []);
    } catch (e) {
      throw new NoAdapterError(`${NO_ADAPTER_HELP} (Dawn said: ${(e as Error).message})`);
    }
    const adapter = await gpu.requestAdapter({ powerPreference: o.powerPreference ?? 'high-performance' });
    if (!adapter) throw new NoAdapterError(NO_ADAPTER_HELP);
    const features = [...adapter.features].filter((f) => f === 'shader-f16' || f === 'timestamp-query' || f === 'subgroups');
    // Ask for the adapter's own limits: SD-sized activations exceed WebGPU's default 128 MiB binding size.
    const l = adapter.limits;
    const gpuDevice = await adapter.requestDevice({
      requiredFeatures: features as GPUFeatureName[],
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      },
    });
    const info = adapter.info;
    return new Device(
      gpuDevice,
      { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
      new Set(features),
      gpu,
    );
  }

  get limits(): GPUSupportedLimits {
    return this.gpu.limits;
  }

  /** Throws if the device was lost; called before work is queued so failures are errors, not hangs. */
  checkAlive(): void {
    if (this.lostReason !== undefined) throw new DeviceLostError(`the GPU device was lost: ${this.lostReason}`);
  }

  /** Run `f` inside validation + out-of-memory error scopes and throw a typed error for what Dawn reports. */
  async scoped<T>(what: string, f: () => T): Promise<T> {
    this.checkAlive();
    this.gpu.pushErrorScope('out-of-memory');
    this.gpu.pushErrorScope('validation');
    let result: T;
    try {
      result = f();
    } finally {
      const validation = await this.gpu.popErrorScope();
      const oom = await this.gpu.popErrorScope();
      if (validation) throw new GpuValidationError(`${what}: ${validation.message}`);
      if (oom) throw new GpuValidationError(`${what}: out of GPU memory: ${oom.message}`);
    }
    return result;
  }

  /** Wait for queued work, failing instead of hanging if the device is lost meanwhile. */
  async idle(): Promise<void> {
    this.checkAlive();
    await Promise.race([
      this.gpu.queue.onSubmittedWorkDone(),
      this.gpu.lost.then((i) => {
        throw new DeviceLostError(`the GPU device was lost: ${i.message}`);
      }),
    ]);
  }

  /** Copy the first `bytes` of a storage buffer back to the CPU (a staging buffer, mapped without hanging). */
  async readBuffer(src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.gpu.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.gpu.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, staging, 0, size);
    this.gpu.queue.submit([enc.finish()]);
    try {
      await this.mapRead(staging);
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  /** Map a MAP_READ buffer, failing instead of hanging if the device is lost meanwhile. */
  async mapRead(buffer: GPUBuffer): Promise<void> {
    this.checkAlive();
    await Promise.race([
      buffer.mapAsync(GPUMapMode.READ),
      this.gpu.lost.then((i) => {
        throw new DeviceLostError(`the GPU device was lost: ${i.message}`);
      }),
    ]);
  }

  destroy(): void {
    this.gpu.destroy();
    void this.keepAlive;
  }
}
