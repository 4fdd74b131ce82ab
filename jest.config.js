/** Unit tests run in seconds with no engine; daemon tests build the images and need Docker. */
const base = { preset: 'ts-jest', testEnvironment: 'node' };
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], setupFilesAfterEnv: ['<rootDir>/test/setup.ts'] },
    { ...base, displayName: 'daemon', testMatch: ['<rootDir>/test/daemon/**/*.test.ts'] },
  ],
};
