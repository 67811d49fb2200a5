// Unit tests of the panels' logic (pure functions and state machines), run by `jlpm test`.
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  testRegex: 'src/(.*/)?__tests__/.*\\.spec\\.ts$',
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: { jsx: 'react', esModuleInterop: true, types: ['jest'] }, isolatedModules: true }] }
};
