// Four projects by how much reality they need: unit (pure functions, parallel), integration (the local control
// plane, serial), mpi (real sshd and mpirun in network namespaces, serial) and e2e (the real node: real containers,
// real mpirun across worker pods, serial). hack/test.sh runs them.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
};
const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
};

export default {
  // Integration and MPI tests wait on real processes; each test bounds its own waits with eventually().
  testTimeout: 180_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
      testEnvironment: '<rootDir>/test/integration/environment.js',
    },
    { ...common, displayName: 'mpi', testMatch: ['<rootDir>/test/mpi/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
      testEnvironment: '<rootDir>/test/integration/environment.js',
    },
  ],
};
