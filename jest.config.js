/**
 * unit: seconds, no engine. daemon: the rendered config checked inside the built images.
 * e2e: stacks brought up on the local engine, real clients against published ports.
 */
const base = { preset: 'ts-jest', testEnvironment: 'node' };
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], setupFilesAfterEnv: ['<rootDir>/test/setup.ts'] },
    { ...base, displayName: 'daemon', testMatch: ['<rootDir>/test/daemon/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
