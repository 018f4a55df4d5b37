import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and client tests start real registries and daemons; give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: real daemons (dockerd, containerd, podman) contend badly when run side by side.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
