// Exit 0 when Dawn finds a WebGPU adapter, 1 when it does not (used by setup.sh to decide on a driver install).
import { create } from 'webgpu';
const adapter = await create([]).requestAdapter();
if (adapter) console.log(`adapter: ${adapter.info?.description || adapter.info?.vendor || 'found'}`);
process.exit(adapter ? 0 : 1);
