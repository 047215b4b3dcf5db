/**
 * Jest in ESM mode (@kubernetes/client-node is ESM-only); swc strips types, `tsc --noEmit` checks them.
 * `*.e2e.test.ts` run against the local cluster and only with CLOUDBASE_E2E=1 (`npm run e2e`).
 */
const e2e = process.env.CLOUDBASE_E2E === '1';

export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: e2e ? ['**/*.e2e.test.ts'] : ['**/*.test.ts'],
  testPathIgnorePatterns: e2e ? ['/node_modules/'] : ['/node_modules/', '\\.e2e\\.test\\.ts$'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: e2e ? 180000 : 30000,
  reporters: ['<rootDir>/hack/summary-reporter.js', 'default'],
};
